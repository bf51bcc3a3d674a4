package mailbox

import (
	"slices"
	"strings"
)

// maxNameBytes is the longest file name a Linux file system takes.
const maxNameBytes = 255

// ValidName reports whether name can be a Maildir message's file name: 1 to 255 bytes, no
// '/', no NUL, and not a dotfile (Maildir readers skip those; "." and ".." are not names).
func ValidName(name string) bool {
	return name != "" && len(name) <= maxNameBytes && name[0] != '.' &&
		!strings.ContainsAny(name, "/\x00")
}

// Unique returns the unique part of a Maildir file name: everything before the info that
// starts at the first ':' (":2,FLAGS"). The same message keeps its unique part when it
// moves from new/ to cur/ and when its flags change.
func Unique(name string) string {
	u, _, _ := strings.Cut(name, ":")
	return u
}

// SeenName returns the name a message gets in cur/ once it is seen: its unique part, then
// ":2," and its flags with S added, in ASCII order, each once. Info that is not of the
// "2," kind is replaced.
func SeenName(name string) string {
	u, info, _ := strings.Cut(name, ":")
	flags := []byte{'S'}
	if rest, ok := strings.CutPrefix(info, "2,"); ok {
		for i := 0; i < len(rest); i++ {
			if c := rest[i]; ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') {
				flags = append(flags, c)
			}
		}
	}
	slices.Sort(flags)
	return u + ":2," + string(slices.Compact(flags))
}
