package bayes

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Class is what an operator decided a learned message is.
type Class string

// The two classes a message can be learned as.
const (
	ClassSpam Class = "spam"
	ClassHam  Class = "ham"
)

// ErrClass is returned when a class is neither ClassSpam nor ClassHam.
var ErrClass = errors.New("class must be spam or ham")

// ErrHash is returned when a message hash is empty.
var ErrHash = errors.New("message hash is empty")

// Memory is an in-memory Counts with learning, for tests and small desks. The zero value is
// not ready; use NewMemory. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	spam    int64
	ham     int64
	tokens  map[string]Count
	learned map[string]learnedMsg // by message hash
}

type learnedMsg struct {
	class  Class
	tokens []string
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{tokens: map[string]Count{}, learned: map[string]learnedMsg{}}
}

// Totals returns how many messages of each class have been learned.
func (m *Memory) Totals(ctx context.Context) (spam, ham int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spam, m.ham, nil
}

// Tokens returns the counts of the listed tokens that have been learned.
func (m *Memory) Tokens(ctx context.Context, toks []string) (map[string]Count, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Count, min(len(toks), MaxTokens))
	for _, t := range toks {
		if c, ok := m.tokens[t]; ok {
			out[t] = c
		}
	}
	return out, nil
}

// Learn records the message with the given hash as class, with its tokens (repeats count once,
// at most MaxTokens are kept). Learning a hash again with the same class changes nothing and
// returns false; learning it with the other class moves it (unlearn, then learn) and returns
// true.
func (m *Memory) Learn(ctx context.Context, hash string, class Class, tokens []string) (changed bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if hash == "" {
		return false, fmt.Errorf("bayes: learn: %w", ErrHash)
	}
	if class != ClassSpam && class != ClassHam {
		return false, fmt.Errorf("bayes: learn %q: %w (got %q)", hash, ErrClass, class)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.learned[hash]; ok {
		if old.class == class {
			return false, nil
		}
		m.apply(old, -1)
	}
	msg := learnedMsg{class: class, tokens: unique(tokens, MaxTokens)}
	m.learned[hash] = msg
	m.apply(msg, +1)
	return true, nil
}

// Unlearn forgets the message with the given hash. It returns false when the hash was not
// learned.
func (m *Memory) Unlearn(ctx context.Context, hash string) (changed bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.learned[hash]
	if !ok {
		return false, nil
	}
	m.apply(old, -1)
	delete(m.learned, hash)
	return true, nil
}

// ClassOf returns the class a hash was learned as, and whether it was learned.
func (m *Memory) ClassOf(hash string) (Class, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.learned[hash]
	return l.class, ok
}

// apply adds (sign +1) or removes (sign −1) one message's counts. Token entries that drop to
// zero are deleted, so that unlearning everything leaves nothing behind.
func (m *Memory) apply(msg learnedMsg, sign int64) {
	spam := msg.class == ClassSpam
	if spam {
		m.spam += sign
	} else {
		m.ham += sign
	}
	for _, t := range msg.tokens {
		c := m.tokens[t]
		if spam {
			c.Spam += sign
		} else {
			c.Ham += sign
		}
		if c.Spam == 0 && c.Ham == 0 {
			delete(m.tokens, t)
		} else {
			m.tokens[t] = c
		}
	}
}
