// Package archtest holds the tests that keep the code in the shape DESIGN.md draws: every
// package has a doc comment, and the data plane never imports storage, the desk, the report
// or database/sql. It has no code of its own.
package archtest
