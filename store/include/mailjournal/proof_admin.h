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

// REQUIRES: journal outlives handler.
void AddProofOperations(Journal* journal, DisposalCheckerFactory disposal_checker,
                        AdminHandler* handler);

}  // namespace mailjournal

#endif  // MAILJOURNAL_PROOF_ADMIN_H_
