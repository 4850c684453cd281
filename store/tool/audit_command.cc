// mailjournal audit: the audit trail (mailjournal-audit(8)).
#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "mailjournal/openssl_util.h"

namespace mailjournal {

namespace {

// A search's access entry holds its query sealed ("query_sealed", "query_recipients"):
// shown as "query" when one of the keys opens it; in text, otherwise, as "(sealed)".
void ShowSealedQuery(const Opener& opener, bool have_keys, bool text, nlohmann::json* entry) {
  nlohmann::json& args = (*entry)["arguments"];
  if (!args.is_object() || !args.contains("query_sealed")) return;
  std::string sealed, query;
  if (have_keys && Base64Decode(args["query_sealed"].get<std::string>(), &sealed) &&
      opener.OpenSealed(args["query_recipients"], sealed, &query).ok()) {
    args.erase("query_sealed");
    args.erase("query_recipients");
    args["query"] = query;
  } else if (text) {
    args["query_sealed"] = "(sealed)";
    args.erase("query_recipients");
  }
}

}  // namespace

int CmdAudit(Channel* channel, const AuditOptions& o) {
  Opener opener;
  Status s = opener.Load(o.keys.files, o.keys.passphrase_file);
  if (!s.ok()) return Fail(s);
  nlohmann::json req = Request("audit");
  if (!o.since.empty()) req["since"] = o.since;
  if (!o.until.empty()) req["until"] = o.until;
  if (!o.user.empty()) req["user"] = o.user;
  if (!o.operation.empty()) req["operation"] = o.operation;
  if (o.seq != 0) req["seq"] = o.seq;
  req["reverse"] = o.reverse;
  bool have_keys = !o.keys.files.empty(), text = o.format != "json";
  return PrintEntries(channel, req, o.limit, o.format, [&](nlohmann::json* entry) {
    if (entry->value("kind", "") == "access") ShowSealedQuery(opener, have_keys, text, entry);
  });
}

}  // namespace mailjournal
