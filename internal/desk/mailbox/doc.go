// Package mailbox reads the mail stores the abuse desk takes complaints from: Maildir
// directories (listed, read and marked seen through an os.Root, so that a file name can never
// lead outside the directory), mbox files (mboxo and mboxrd, streamed one message at a time)
// and single message files, and tells the three apart (Detect).
//
// Every read is capped: a message over the caller's size limit is reported with ErrTooLarge
// instead of being held in memory. The package never deletes anything; the only change it
// makes is Maildir.MarkSeen, one rename from new/ to cur/.
package mailbox

import "errors"

// ErrTooLarge reports a message over the caller's size cap. It is wrapped with the message's
// size and place.
var ErrTooLarge = errors.New("message over the size cap")
