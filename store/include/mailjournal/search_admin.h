// The search operations of the admin protocol (mailjournald(8), "ADMIN SOCKET PROTOCOL";
// mailjournal-search(8)):
//   search          "query" (mailjournal/search_query.h), optional "departments" (names),
//                   "since"/"until" (ISO 8601, commit times, until exclusive), "before"
//                   (a sequence number, exclusive: the next page), "offset", "limit" (at
//                   most kMaxListLimit, default 100). Answers {"hits":[...], "more":bool,
//                   "departments":[searched]}: the candidate messages newest first, each
//                   its entry's JSON (as "list") plus "exact": true when the postings alone
//                   prove the match (false: the tool must confirm it on the text); when
//                   the query has a tag: or status: term, also "review_status" (unreviewed,
//                   reviewed, escalated, closed) and "tags" (the review state, folded once
//                   per request). Metadata terms are decided exactly here: tags and status
//                   from the review state, flags and samples from each message's entry (a
//                   query of flag: or is:sampled terms only reads the window's messages
//                   newest first until the page is full). Searches
//                   the departments that have an index key and that the caller may search
//                   (with "departments", those of them; naming one the caller may not
//                   search is refused, one without an index key is NotFound). Messages
//                   disposed of are left out.
//   reindex_begin   "department": gives it a new current index key (new mail is indexed
//                   with it at once); the old keys stay in use for searches.
//   reindex_add     "department", "messages": [{"seq":N, "tokens":[[token, fields],...]}]:
//                   the tokens the tool collected from each decrypted message (of that
//                   department), hashed here with the department's current key and added.
//   reindex_finish  "department": drops every posting of the department's older keys and
//                   the keys themselves.
// A search's access entry records its arguments without the query's text: the query is
// sealed (QuerySealer) so that only the holders of the searched departments' (and the
// escrow) private keys can read it with mailjournal audit --key; a query is often words of
// mail. The reindex operations record the department and the sequence numbers, never the
// tokens.
// "search" needs the "search" grant; the reindex operations need "policy", and "read" and
// "search" on the department (only someone who can find and read its mail rebuilds its
// index).
// Registered on the daemon's handler and the tool's offline one.
#ifndef MAILJOURNAL_SEARCH_ADMIN_H_
#define MAILJOURNAL_SEARCH_ADMIN_H_

#include <functional>
#include <string>
#include <vector>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/review_state.h"

namespace mailjournal {

// Sets a search hit's "review_status" and "tags" from a message's review state (null:
// never reviewed or tagged).
void AddReviewState(const MessageReview* review, nlohmann::json* hit);

// The default number of hits of one "search" response.
constexpr uint64_t kDefaultSearchLimit = 100;

// Seals a search query for the audit trail, to the keys of `departments` (those searched)
// and the escrow keys: sets *record to the members the access entry records in place of
// "query" ({"query_sealed": base64 CMS, "query_recipients": [key fingerprints]}, or
// {"query_unrecorded": why} when there is no key to seal to). An error refuses the search.
using QuerySealer = std::function<Status(const std::vector<std::string>& departments,
                                         const std::string& query, nlohmann::json* record)>;

// REQUIRES: journal and keys outlive handler.
void AddSearchOperations(Journal* journal, IndexKeyStore* keys, QuerySealer seal_query,
                         AdminHandler* handler);

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEARCH_ADMIN_H_
