package resolve

import (
	"context"
	"sync"
	"time"
)

// flights coalesces identical concurrent questions: the first caller starts one upstream query
// in its own goroutine, every caller (the first too) waits for it or for its own context. The
// query has its own time budget, so a caller that gives up does not cancel it for the others.
type flights struct {
	mu     sync.Mutex
	calls  map[key]*call
	closed bool
	wg     sync.WaitGroup
}

type call struct {
	done   chan struct{}
	cancel context.CancelFunc
	a      answer
}

func newFlights() *flights {
	return &flights{calls: make(map[key]*call)}
}

// do returns the answer of fn for k, joining a query already in flight for the same key.
func (f *flights) do(ctx context.Context, k key, budget time.Duration, fn func(context.Context, key) answer) (answer, error) {
	c, err := f.join(ctx, k, budget, fn)
	if err != nil {
		return answer{}, err
	}
	select {
	case <-c.done:
		return c.a, nil
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
}

func (f *flights) join(ctx context.Context, k key, budget time.Duration, fn func(context.Context, key) answer) (*call, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	if c, ok := f.calls[k]; ok {
		return c, nil
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	c := &call{done: make(chan struct{}), cancel: cancel}
	f.calls[k] = c
	f.wg.Add(1)
	go f.run(qctx, k, c, fn)
	return c, nil
}

func (f *flights) run(ctx context.Context, k key, c *call, fn func(context.Context, key) answer) {
	defer f.wg.Done()
	defer c.cancel()
	c.a = fn(ctx, k)
	f.mu.Lock()
	delete(f.calls, k)
	f.mu.Unlock()
	close(c.done)
}

// close cancels the queries in flight, waits for them, and refuses new ones.
func (f *flights) close() {
	f.mu.Lock()
	f.closed = true
	for _, c := range f.calls {
		c.cancel()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
