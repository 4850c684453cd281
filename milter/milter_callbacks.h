// The libmilter side of mailjournald: registration and the callback trampolines.
//
// Every callback is noexcept: any exception or journal error becomes TEMPFAIL with
// "451 4.3.0 mailjournal: ..." and a log line naming the queue id. The filter never returns
// ACCEPT, and answers CONTINUE at end-of-message only after the message is durably
// committed.
#ifndef MAILJOURNAL_MILTER_MILTER_CALLBACKS_H_
#define MAILJOURNAL_MILTER_MILTER_CALLBACKS_H_

#include "mailjournal/journal.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/status.h"

namespace mailjournal {

// Registers the filter with libmilter (smfi_register). Call once, before smfi_main().
Status RegisterMilter();

// Lets the callbacks use `journal`, classifying messages with the policies' active policy.
// REQUIRES: called before smfi_main(); both stay alive until CloseMilterJournal() has
// returned.
void OpenMilterJournal(Journal* journal, const PolicyHolder* policies);

// Stops the callbacks from using the journal: later callbacks answer TEMPFAIL; waits until
// every callback that is using the journal has finished. Call after smfi_main() returns.
void CloseMilterJournal();

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_MILTER_CALLBACKS_H_
