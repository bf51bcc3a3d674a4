// Package triage decides what the abuse desk does with a complaint mail: attach it to one of
// our cases, queue it for a volunteer, ignore and count it, or set it aside as spam or unsure.
//
// Decide looks at a decoded mail in a fixed order, and the Decision it returns lists its
// reasons in that order:
//
//  1. a reply to one of our cases (subject tag, In-Reply-To, References, the complainant's
//     case ID);
//  2. an automated sender (RFC 3834 Auto-Submitted, machine-made report formats, Precedence,
//     an empty return path, no-reply addresses, "not monitored" phrases) and the operator's
//     sender rules with their actions;
//  3. whether the mail names one of our addresses, and whether it was ours at the reported
//     time (the Inventory);
//  4. the learning spam filter (package bayes), which has a say only once trusted;
//  5. the category.
//
// The never-spam invariants are kept in one place (neverSpam): a mail that names our address
// at a time it was ours, any machine-made report format, a reply to our case, and mail from
// an upstream provider or law enforcement is never classed spam, whatever the filter scores.
package triage
