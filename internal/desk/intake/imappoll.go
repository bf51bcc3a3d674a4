package intake

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"sortie.dev/sortie/internal/crashpoint"
	"sortie.dev/sortie/internal/store"
)

// imapMessage is one fetched message.
type imapMessage struct {
	uid  imap.UID
	date time.Time
	raw  []byte
}

// poll selects the folder and takes its unseen mail in bounded batches.
func (s *imapSession) poll(ctx context.Context) (Counts, error) {
	var c Counts
	var validity uint32
	var uids []imap.UID
	err := s.step(func() error {
		sel, err := s.c.Select(s.p.opts.Folder, nil).Wait()
		if err != nil {
			return fmt.Errorf("select %s: %w", s.p.opts.Folder, err)
		}
		if sel.UIDValidity == 0 {
			return fmt.Errorf("select %s: the server gave no UIDVALIDITY", s.p.opts.Folder)
		}
		validity = sel.UIDValidity
		found, err := s.c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
		if err != nil {
			return fmt.Errorf("search unseen: %w", err)
		}
		uids = found.AllUIDs()
		return nil
	})
	if err != nil {
		return c, err
	}
	slices.Sort(uids)
	uids = uids[:min(len(uids), imapMaxPerPoll)]
	for chunk := range slices.Chunk(uids, imapSizeChunk) {
		sizes, err := s.sizes(chunk)
		if err != nil {
			return c, err
		}
		for _, batch := range s.batches(chunk, sizes, validity, &c) {
			if err := s.takeBatch(ctx, validity, batch, &c); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}

// sizes asks the sizes of the messages uids.
func (s *imapSession) sizes(uids []imap.UID) (map[imap.UID]int64, error) {
	sizes := make(map[imap.UID]int64, len(uids))
	err := s.step(func() error {
		msgs, err := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		if err != nil {
			return fmt.Errorf("fetch sizes: %w", err)
		}
		for _, m := range msgs {
			sizes[m.UID] = m.RFC822Size
		}
		return nil
	})
	return sizes, err
}

// batches groups the messages to download, leaving out those over the size cap (logged
// once, counted as oversized) and those that vanished.
func (s *imapSession) batches(uids []imap.UID, sizes map[imap.UID]int64, validity uint32, c *Counts) [][]imap.UID {
	var out [][]imap.UID
	var cur []imap.UID
	var bytes int64
	for _, uid := range uids {
		size, ok := sizes[uid]
		if !ok {
			continue // expunged meanwhile
		}
		if size > s.p.max {
			c.Oversized++
			if key := imapKey(validity, uid); s.p.logged.first(key) {
				s.p.log.Warn("imap: message over the size cap left unseen", "folder", s.p.opts.Folder,
					"key", key, "bytes", size, "cap", s.p.max)
			}
			continue
		}
		if len(cur) > 0 && (len(cur) == imapFetchBatch || bytes+size > imapBatchBytes) {
			out = append(out, cur)
			cur, bytes = nil, 0
		}
		cur = append(cur, uid)
		bytes += size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// takeBatch downloads a batch, then delivers and acknowledges its messages one by one.
func (s *imapSession) takeBatch(ctx context.Context, validity uint32, uids []imap.UID, c *Counts) error {
	msgs, err := s.fetch(uids, validity, c)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := imapKey(validity, m.uid)
		crashpoint.Hit(pointRead)
		st, err := s.p.sink.Deliver(ctx, store.Delivery{Source: store.SourceIMAP, Key: key, Raw: m.raw, ReceivedAt: m.date})
		if err != nil {
			c.Failed++
			if s.p.logged.first(key) {
				s.p.log.Warn("imap: delivery failed, message left unseen", "folder", s.p.opts.Folder, "key", key, "err", err)
			}
			continue
		}
		crashpoint.Hit(pointStored)
		c.add(st)
		if err := s.ack(m.uid); err != nil {
			return fmt.Errorf("stored %s, but: %w", key, err)
		}
		s.p.logged.forget(key)
		crashpoint.Hit(pointAcked)
	}
	return nil
}

// fetch downloads the messages uids (BODY.PEEK[]: \Seen stays unset), each read with the
// size cap.
func (s *imapSession) fetch(uids []imap.UID, validity uint32, c *Counts) ([]imapMessage, error) {
	var msgs []imapMessage
	err := s.step(func() error {
		cmd := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
			UID:          true,
			InternalDate: true,
			BodySection:  []*imap.FetchItemBodySection{{Peek: true}},
		})
		defer cmd.Close()
		for {
			data := cmd.Next()
			if data == nil {
				break
			}
			m, got, err := s.readMessage(data)
			if err != nil {
				return err
			}
			key := imapKey(validity, m.uid)
			switch {
			case got == bodyNone || m.uid == 0:
				// An unsolicited FETCH (a flag changed elsewhere): not ours.
			case got == bodyOver:
				c.Oversized++
				if s.p.logged.first(key) {
					s.p.log.Warn("imap: message larger than announced, over the size cap, left unseen",
						"folder", s.p.opts.Folder, "key", key, "cap", s.p.max)
				}
			case len(m.raw) == 0:
				c.Failed++
				if s.p.logged.first(key) {
					s.p.log.Warn("imap: empty message left unseen", "folder", s.p.opts.Folder, "key", key)
				}
			default:
				msgs = append(msgs, m)
			}
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		return nil
	})
	return msgs, err
}

// What a FETCH response held of the body.
const (
	bodyNone = iota // no body: not an answer to our fetch
	bodyOver        // a body over the size cap, not kept
	bodyRead        // a body, in raw
)

// readMessage reads one message's FETCH items.
func (s *imapSession) readMessage(data *imapclient.FetchMessageData) (imapMessage, int, error) {
	var m imapMessage
	got := bodyNone
	for {
		item := data.Next()
		if item == nil {
			return m, got, nil
		}
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			m.uid = item.UID
		case imapclient.FetchItemDataInternalDate:
			m.date = item.Time
		case imapclient.FetchItemDataBodySection:
			got = bodyOver
			if item.Literal == nil {
				got = bodyRead // NIL: an empty body
				continue
			}
			if item.Literal.Size() > s.p.max {
				continue // the client discards what is not read
			}
			b, err := io.ReadAll(io.LimitReader(item.Literal, s.p.max+1))
			if err != nil {
				return m, got, fmt.Errorf("fetch body: %w", err)
			}
			if int64(len(b)) <= s.p.max {
				m.raw, got = b, bodyRead
			}
		}
	}
}

// ack flags a stored message \Seen, or moves it to MoveTo.
func (s *imapSession) ack(uid imap.UID) error {
	return s.step(func() error {
		set := imap.UIDSetNum(uid)
		if to := s.p.opts.MoveTo; to != "" {
			if _, err := s.c.Move(set, to).Wait(); err != nil {
				return fmt.Errorf("move to %s: %w", to, err)
			}
			return nil
		}
		flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}
		if err := s.c.Store(set, flags, nil).Close(); err != nil {
			return fmt.Errorf("flag \\Seen: %w", err)
		}
		return nil
	})
}

// imapKey is a message's delivery key: "UIDVALIDITY/UID".
func imapKey(validity uint32, uid imap.UID) string {
	return strconv.FormatUint(uint64(validity), 10) + "/" + strconv.FormatUint(uint64(uid), 10)
}
