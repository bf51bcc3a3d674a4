package intake

import "sortie.dev/sortie/internal/store"

// Counts says what one poll of a source did.
type Counts struct {
	// New counts messages stored for the first time.
	New int
	// Repeats counts messages whose bytes were already stored from another copy.
	Repeats int
	// Known counts copies stored before whose acknowledgement had not happened (a crash
	// or a failure between the commit and the acknowledgement): acknowledged now.
	Known int
	// Failed counts messages left at the source: the sink failed, or they could not be read.
	Failed int
	// Oversized counts messages left at the source because they are over the size cap.
	Oversized int
}

// add counts what the sink did with one message.
func (c *Counts) add(st store.Stored) {
	switch {
	case st.Known:
		c.Known++
	case st.Repeat:
		c.Repeats++
	default:
		c.New++
	}
}
