// search and reindex (mailjournal-search(8)): the daemon narrows by keyed postings and
// access rights; this tool, holding the officer's private keys, opens the candidates,
// confirms the query on their text and builds subjects and snippets.
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "entry_text.h"
#include "fetch.h"
#include "mailjournal/search_admin.h"
#include "mailjournal/search_index.h"
#include "mailjournal/search_query.h"
#include "mailjournal/text_extract.h"
#include "search_hits.h"

namespace mailjournal {

namespace {

using nlohmann::json;

// Candidates asked for per request while the tool confirms them.
constexpr uint64_t kConfirmPage = 50;
// Messages per reindex_add request.
constexpr size_t kReindexBatch = 20;

std::vector<std::string> Strings(const json& array) {
  std::vector<std::string> out;
  for (const json& v : array) out.push_back(v.get<std::string>());
  return out;
}

json SearchRequest(const SearchCliOptions& o) {
  json req = Request("search");
  req["query"] = JoinWords(o.query);
  if (!o.departments.empty()) req["departments"] = o.departments;
  if (!o.since.empty()) req["since"] = o.since;
  if (!o.until.empty()) req["until"] = o.until;
  return req;
}

// Without keys: the daemon's pages as they are; inexact candidates are printed
// unconfirmed.
int SearchUnopened(Channel* channel, const SearchCliOptions& o) {
  json req = SearchRequest(o);
  req["offset"] = o.offset;
  uint64_t printed = 0;
  while (printed < o.limit) {
    req["limit"] = std::min(o.limit - printed, kMaxListLimit);
    json resp;
    Status s = channel->Call(req, &resp, NoPayload);
    if (!s.ok()) return Fail(s);
    for (const json& e : resp["hits"]) {
      Hit hit;
      hit.entry = e;
      hit.confirmed = e["exact"].get<bool>();
      PrintHit(hit, o.format);
      ++printed;
    }
    if (!resp["more"].get<bool>() || resp["hits"].empty()) break;
    req["offset"] = 0;
    req["before"] = resp["hits"].back()["seq"];
  }
  return EX_OK;
}

// With keys: pages through the candidates newest first, opens each, keeps those the query
// matches on their text, and skips `offset` of them before printing `limit`. A candidate
// no key opens is printed when the postings prove it (exact), unconfirmed otherwise.
int SearchOpened(Channel* channel, const SearchCliOptions& o) {
  QueryNode query;
  Status s = ParseQuery(JoinWords(o.query), &query);
  if (!s.ok()) return Fail(s);
  Opener opener;
  s = opener.Load(o.keys.files, o.keys.passphrase_file);
  if (!s.ok()) return Fail(s);
  json req = SearchRequest(o);
  req["limit"] = kConfirmPage;
  uint64_t skipped = 0, printed = 0;
  while (printed < o.limit) {
    json resp;
    s = channel->Call(req, &resp, NoPayload);
    if (!s.ok()) return Fail(s);
    for (const json& e : resp["hits"]) {
      Hit hit;
      hit.entry = e;
      Opened opened;
      s = OpenMessage(channel, opener, e, &opened);
      if (s.ok()) {
        if (!Matches(query, opened.doc)) continue;
        hit.confirmed = hit.opened = true;
        hit.subject = opened.text.subject.empty() ? "" : opened.text.subject.front();
        hit.snippet = Snippet(query, opened.text);
      } else if (s.code() == Status::Code::kPermissionDenied || s.IsNotFound()) {
        // No key given opens it, no grant to read it, or disposed of meanwhile.
        hit.confirmed = e["exact"].get<bool>();
      } else {
        return Fail(s);
      }
      if (skipped < o.offset) {
        ++skipped;
        continue;
      }
      PrintHit(hit, o.format);
      if (++printed == o.limit) break;
    }
    if (!resp["more"].get<bool>() || resp["hits"].empty()) break;
    req["before"] = resp["hits"].back()["seq"];
  }
  return EX_OK;
}

// The messages of `department`, oldest first, through "list".
Status ForEachMessageOf(Channel* channel, const std::string& department,
                        const std::function<Status(const json& entry)>& fn) {
  json req = Request("list");
  req["limit"] = kMaxListLimit;
  while (true) {
    json resp;
    Status s = channel->Call(req, &resp, NoPayload);
    if (!s.ok()) return s;
    for (const json& e : resp["entries"]) {
      const json& of = e["departments"];
      if (std::find(of.begin(), of.end(), department) == of.end()) continue;
      s = fn(e);
      if (!s.ok()) return s;
    }
    if (!resp["more"].get<bool>() || resp["entries"].empty()) return Status::OK();
    req["after"] = resp["entries"].back()["seq"];
  }
}

int Reindex(Channel* channel, const ReindexCliOptions& o) {
  Opener opener;
  Status s = opener.Load(o.keys.files, o.keys.passphrase_file);
  if (!s.ok()) return Fail(s);
  json req = Request("reindex_begin");
  req["department"] = o.department;
  json resp;
  s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  json add = Request("reindex_add");
  add["department"] = o.department;
  add["messages"] = json::array();
  auto flush = [&]() -> Status {
    if (add["messages"].empty()) return Status::OK();
    json answer;
    Status st = channel->Call(add, &answer, NoPayload);
    add["messages"] = json::array();
    return st;
  };
  uint64_t reindexed = 0, disposed = 0;
  s = ForEachMessageOf(channel, o.department, [&](const json& entry) {
    Opened opened;
    Status st = OpenMessage(channel, opener, entry, &opened);
    if (st.IsNotFound()) {
      ++disposed;
      return Status::OK();
    }
    if (!st.ok()) {
      return Status::FromCode(st.code(), "message " + std::to_string(entry["seq"].get<uint64_t>()) +
                                             ": " + st.message());
    }
    json tokens = json::array();
    for (const auto& [token, fields] : CollectTokens(opened.doc)) tokens.push_back({token, fields});
    add["messages"].push_back({{"seq", entry["seq"]}, {"tokens", std::move(tokens)}});
    ++reindexed;
    return add["messages"].size() >= kReindexBatch ? flush() : Status::OK();
  });
  if (s.ok()) s = flush();
  if (!s.ok()) {
    std::cerr << "mailjournal: reindex of " << o.department
              << " stopped; searches keep using the old index until a reindex completes\n";
    return Fail(s);
  }
  req = Request("reindex_finish");
  req["department"] = o.department;
  s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  json summary{{"department", o.department},
               {"reindexed", reindexed},
               {"disposed", disposed},
               {"dropped_keys", resp["dropped_keys"]}};
  if (o.format == "json") {
    PrintJson(summary);
  } else {
    std::printf("reindexed %llu messages of department %s (%llu disposed of, skipped)\n",
                static_cast<unsigned long long>(reindexed), o.department.c_str(),
                static_cast<unsigned long long>(disposed));
  }
  return EX_OK;
}

}  // namespace

Status OpenMessage(Channel* channel, const Opener& opener, const json& entry, Opened* out) {
  std::string bytes;
  Status s = FetchMessage(
      channel, entry["seq"].get<uint64_t>(), FetchPurpose::kRead, FetchForm::kCaptured, opener,
      [](const json&) { return Status::OK(); },
      [&bytes](std::string_view b) {
        bytes.append(b);
        return Status::OK();
      });
  if (!s.ok()) return s;
  out->text = ExtractText(bytes);
  out->doc =
      BuildDocument(out->text, {entry["mail_from"].get<std::string>()}, Strings(entry["rcpt"]));
  out->doc.facts = FactsFromJson(entry);
  return Status::OK();
}

MessageFacts FactsFromJson(const json& entry) {
  MessageFacts facts;
  for (const json& f : entry.value("flags", json::array())) {
    LexiconHit hit;
    hit.lexicon = f.value("lexicon", "");
    ParseSeverity(f.value("severity", ""), &hit.severity);
    facts.flags.push_back(std::move(hit));
  }
  facts.sampled = entry.value("sampled", false);
  ReviewStatus status;
  if (ParseReviewStatus(entry.value("review_status", ""), &status)) facts.status = status;
  for (const json& t : entry.value("tags", json::array())) facts.tags.insert(t.get<std::string>());
  return facts;
}

void PrintHit(const Hit& hit, const std::string& format) {
  const json& e = hit.entry;
  json flags = json::array();
  for (const json& f : e.value("flags", json::array())) flags.push_back(f["lexicon"]);
  if (format == "json") {
    json out{{"seq", e["seq"]},
             {"time", e["time"]},
             {"from", e["mail_from"]},
             {"rcpt", e["rcpt"]},
             {"departments", e["departments"]},
             {"confirmed", hit.confirmed},
             {"flags", flags},
             {"sampled", e.value("sampled", false)}};
    if (e.contains("review_status")) {
      out["review_status"] = e["review_status"];
      out["tags"] = e["tags"];
    }
    if (!hit.prefix.empty()) out["prefix"] = hit.prefix;
    if (hit.opened) {
      out["subject"] = hit.subject;
      out["snippet"] = hit.snippet;
    }
    PrintJson(out);
    return;
  }
  std::string line = (hit.prefix.empty() ? "" : hit.prefix + ":") +
                     std::to_string(e["seq"].get<uint64_t>()) + " " + e["time"].get<std::string>() +
                     " from=<" + Printable(e["mail_from"].get<std::string>()) +
                     "> to=" + Printable(JoinStrings(e["rcpt"], ","));
  if (!flags.empty()) line += " flags=" + Printable(JoinStrings(flags, ","));
  if (e.value("sampled", false)) line += " sampled";
  if (e.contains("review_status")) {
    line += " status=" + e["review_status"].get<std::string>();
    if (!e["tags"].empty()) line += " tags=" + Printable(JoinStrings(e["tags"], ","));
  }
  if (!hit.confirmed) line += " (unconfirmed: open it with --key)";
  std::printf("%s\n", line.c_str());
  if (hit.opened) {
    std::printf("    subject: %s\n", Printable(hit.subject).c_str());
    if (!hit.snippet.empty()) std::printf("    %s\n", Printable(hit.snippet).c_str());
  }
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void SearchCommands::AddTo(CLI::App* app) {
  auto formats = CLI::IsMember({"text", "json"});
  SearchCliOptions& so = search_options_;
  search_ = app->add_subcommand("search", "find messages (query language: mailjournal-search(8))");
  search_->add_option("query", so.query, "the query (its words are joined with spaces)")
      ->required();
  search_->add_option("--department", so.departments, "only this department (repeatable)");
  search_->add_option("--since", so.since, "captured at or after (ISO 8601)");
  search_->add_option("--until", so.until, "captured before (ISO 8601)");
  search_->add_option("--limit", so.limit, "at most this many hits (default 20)");
  search_->add_option("--offset", so.offset, "skip this many hits first");
  search_->add_option("--format", so.format, "text or json")->check(formats);
  so.keys.AddTo(search_);

  ReindexCliOptions& ro = reindex_options_;
  reindex_ =
      app->add_subcommand("reindex", "rebuild a department's search index under a new index key");
  reindex_->add_option("--department", ro.department, "the department")->required();
  reindex_->add_option("--format", ro.format, "text or json")->check(formats);
  ro.keys.AddTo(reindex_);
}

bool SearchCommands::Selected() const { return search_->parsed() || reindex_->parsed(); }

int SearchCommands::Run(Channel* channel) const {
  if (reindex_->parsed()) {
    if (reindex_options_.keys.files.empty()) {
      return Fail(Status::InvalidArgument("reindex: give the department's --key"));
    }
    return Reindex(channel, reindex_options_);
  }
  if (search_options_.keys.files.empty()) return SearchUnopened(channel, search_options_);
  return SearchOpened(channel, search_options_);
}

}  // namespace mailjournal
