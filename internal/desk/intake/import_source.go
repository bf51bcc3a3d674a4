package intake

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"sortie.dev/sortie/internal/desk/mailbox"
)

// message imports a single message file.
func (im *importer) message(ctx context.Context, path string) error {
	im.start(1)
	raw, mod, err := mailbox.ReadMessage(path, im.max)
	if err != nil {
		im.fail(path, err)
		return nil
	}
	return im.deliver(ctx, path, path, raw, mod)
}

// mbox imports every message of an mbox file, counting them first.
func (im *importer) mbox(ctx context.Context, path string) error {
	f, err := mailbox.OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	total, err := mailbox.CountMbox(f)
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	im.start(total)
	r := mailbox.NewMboxReader(f, im.max)
	for {
		m, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		where := fmt.Sprintf("%s#%d", path, m.Index)
		if m.Err != nil {
			im.fail(where, m.Err)
			continue
		}
		if err := im.deliver(ctx, where, where, m.Raw, separatorTime(m.Separator)); err != nil {
			return err
		}
	}
}

// maildir imports the messages of a Maildir's cur/ and new/, counting them first.
func (im *importer) maildir(ctx context.Context, dir string) error {
	md, err := mailbox.OpenMaildir(dir)
	if err != nil {
		return err
	}
	defer md.Close()
	total := 0
	for _, sub := range []string{mailbox.Cur, mailbox.New} {
		n, err := md.Count(sub)
		if err != nil {
			return fmt.Errorf("count: %w", err)
		}
		total += n
	}
	im.start(total)
	for _, sub := range []string{mailbox.Cur, mailbox.New} {
		for name, err := range md.Names(sub) {
			if err != nil {
				return err
			}
			where := dir + "/" + sub + "/" + name
			raw, mod, err := md.Read(sub, name, im.max)
			if err != nil {
				im.fail(where, err)
				continue
			}
			if err := im.deliver(ctx, where, dir+"/"+mailbox.Unique(name), raw, mod); err != nil {
				return err
			}
		}
	}
	return nil
}

// separatorTime reads the date at the end of an mbox separator ("sender Sat Jan  3
// 10:00:00 2026", the C asctime layout, in UTC by convention); zero when there is none.
func separatorTime(sep string) time.Time {
	f := strings.Fields(sep)
	if len(f) < 5 {
		return time.Time{}
	}
	t, err := time.Parse(time.ANSIC, strings.Join(f[len(f)-5:], " "))
	if err != nil {
		// Some writers put a zone before the year: "Sat Jan 3 10:00:00 +0100 2026".
		if len(f) >= 6 {
			if t, err = time.Parse("Mon Jan _2 15:04:05 -0700 2006", strings.Join(f[len(f)-6:], " ")); err == nil {
				return t
			}
		}
		return time.Time{}
	}
	return t
}
