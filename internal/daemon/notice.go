package daemon

// noticeState holds the public pages.
type noticeState struct{}

// setupNotice prepares the public pages.
func (d *Daemon) setupNotice() error { return nil }
