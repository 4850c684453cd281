// The libmilter side of mailjournald: registration and the callback trampolines.
//
// Every callback is noexcept: any exception or journal error becomes TEMPFAIL with
// "451 4.3.0 mailjournal: ..." and a log line naming the queue id, at once or, for an event
// the filter does not answer (RegisterMilter), at the end of the message. The filter never
// returns ACCEPT, and answers CONTINUE at end-of-message only after the message is durably
// committed.
#ifndef MAILJOURNAL_MILTER_MILTER_CALLBACKS_H_
#define MAILJOURNAL_MILTER_MILTER_CALLBACKS_H_

#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/status.h"
#include "metrics.h"

namespace mailjournal {

// Registers the filter with libmilter (smfi_register). Call once, before smfi_main().
// On a unix: socket (`unix_socket`) the filter asks the MTA not to wait for its answer to
// the connection, HELO, DATA, header, end-of-header and body events (SMFIP_NR_*), which
// saves a round trip per header and body chunk; it answers MAIL, RCPT and end of message,
// and a failure in an unanswered event is answered at the end of the message. On a TCP
// socket it answers every event: there the MTA's small back-to-back writes would wait for
// delayed ACKs (Nagle), about 40 ms per message (notes/milter.md).
Status RegisterMilter(bool unix_socket);

// Lets the callbacks use `journal`, classifying messages with the policies' active policy
// and indexing them with the departments' keys in `index_keys`; every commit and every
// tempfail is counted in `metrics` (which may be null).
// REQUIRES: called before smfi_main(); all four stay alive until CloseMilterJournal() has
// returned.
void OpenMilterJournal(Journal* journal, const PolicyHolder* policies, IndexKeyStore* index_keys,
                       DaemonMetrics* metrics = nullptr);

// Stops the callbacks from using the journal: later callbacks answer TEMPFAIL; waits until
// every callback that is using the journal has finished. Call after smfi_main() returns.
void CloseMilterJournal();

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_MILTER_CALLBACKS_H_
