// The admin operations of the tree (mailjournald(8), ADMIN PROTOCOL): "verify" runs
// VerifyJournal (mailjournal/verify.h); "proof" gives an inclusion or consistency proof
// (mailjournal/merkle.h) with the checkpoint it is made for. Registered on the daemon's
// handler and on the tool's offline one, so both answer alike.
#ifndef MAILJOURNAL_PROOF_ADMIN_H_
#define MAILJOURNAL_PROOF_ADMIN_H_

#include "mailjournal/admin_protocol.h"
#include "mailjournal/journal.h"
#include "mailjournal/verify.h"

namespace mailjournal {

// Makes the checker of disposals for one verification (null: structural checks only).
using DisposalCheckerFactory = std::function<std::unique_ptr<DisposalChecker>()>;

// Told the outcome of every "verify" request that ran to its end: the report (intact or
// not), or the error that kept the check from being made (then `report` is partial).
// Called on the thread that answered, before the response is sent.
using VerifyObserver = std::function<void(const Status& status, const VerifyReport& report)>;

// REQUIRES: journal outlives handler. `on_verify` may be null.
void AddProofOperations(Journal* journal, DisposalCheckerFactory disposal_checker,
                        AdminHandler* handler, VerifyObserver on_verify = nullptr);

}  // namespace mailjournal

#endif  // MAILJOURNAL_PROOF_ADMIN_H_
