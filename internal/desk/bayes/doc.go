// Package bayes is the abuse desk's learning spam filter: a naive Bayes classifier with
// Robinson's token probabilities and Fisher's method of combining them, as bogofilter does.
//
// The filter learns only from explicit operator decisions (a volunteer marks a mail spam or
// not spam), once per message hash, and it stays out of the way until it has learned at least
// MinEach messages of each class: before that every outcome is OutcomeUnsure with Trusted
// false, and triage decides by its rules alone.
//
// Counts is the narrow interface to the learned data; Memory implements it in memory, and the
// store implements it in SQL. Tokenize turns a decoded mail into the tokens both learn and
// classify from.
package bayes
