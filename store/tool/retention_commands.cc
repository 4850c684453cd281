// mailjournal hold add | release | list, and mailjournal purge (mailjournal-hold(8),
// mailjournal-purge(8)): requests of the admin protocol's hold_add, hold_release, hold_list
// and purge operations (policy/include/mailjournal/retention_admin.h), and their output.
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli.h"
#include "commands.h"
#include "entry_text.h"
#include "mailjournal/admin_protocol.h"

namespace mailjournal {

using nlohmann::json;

namespace {

void PrintHold(const json& h) {
  const std::string& source = h["source"].get_ref<const std::string&>();
  PrintField("case", h["case"].get<std::string>());
  PrintField("source", source + " (entry " + std::to_string(h["seq"].get<uint64_t>()) + ")");
  PrintField("placed_by", h["placed_by"].get<std::string>());
  if (h.contains("time")) PrintField("time", h["time"].get<std::string>());
  PrintField("reason", h["reason"].get<std::string>());
  PrintField("scope", ScopeText(h["scope"]));
}

int CmdHoldAdd(Channel* channel, const HoldAddOptions& o) {
  json req = Request("hold_add");
  req["case"] = o.case_id;
  req["reason"] = o.reason;
  if (!o.departments.empty()) req["departments"] = o.departments;
  if (!o.addresses.empty()) req["addresses"] = o.addresses;
  if (!o.since.empty()) req["since"] = o.since;
  if (!o.until.empty()) req["until"] = o.until;
  if (!o.seqs.empty()) {
    json ranges = json::array();
    for (const std::string& text : o.seqs) {
      std::pair<uint64_t, uint64_t> range;
      Status s = ParseSeqRange(text, &range);
      if (!s.ok()) return Fail(s);
      ranges.push_back(json::array({range.first, range.second}));
    }
    req["seqs"] = ranges;
  }
  json resp;
  Status s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  uint64_t seq = resp["seq"].get<uint64_t>();
  if (o.format == "json") {
    PrintJson(json{{"case", o.case_id}, {"seq", seq}});
  } else {
    std::printf("hold placed: case=%s seq=%llu\n", o.case_id.c_str(),
                static_cast<unsigned long long>(seq));
  }
  return EX_OK;
}

int CmdHoldRelease(Channel* channel, const std::string& case_id, const std::string& reason) {
  json req = Request("hold_release");
  req["case"] = case_id;
  req["reason"] = reason;
  json resp;
  Status s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  std::printf("hold released: case=%s seq=%llu\n", case_id.c_str(),
              static_cast<unsigned long long>(resp["seq"].get<uint64_t>()));
  return EX_OK;
}

int CmdHoldList(Channel* channel, const std::string& format) {
  json resp;
  Status s = channel->Call(Request("hold_list"), &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  const json& holds = resp["holds"];
  if (format == "json") {
    PrintJson(json{{"holds", holds}});
  } else if (holds.empty()) {
    std::puts("no hold is in force");
  } else {
    for (size_t i = 0; i < holds.size(); ++i) {
      if (i > 0) std::fputs("\n", stdout);  // an empty line between blocks
      PrintHold(holds[i]);
    }
  }
  if (std::fflush(stdout) != 0) return Fail(Status::IOError("standard output: write failed"));
  return EX_OK;
}

void PrintPurgeReport(const json& r) {
  constexpr int kWidth = 14;
  bool dry_run = r["dry_run"].get<bool>();
  auto count = [&r](const char* name) { return std::to_string(r[name].get<uint64_t>()); };
  if (dry_run) PrintField("dry run", "nothing was disposed of", kWidth);
  PrintField("expired", count("expired"), kWidth);
  PrintField(dry_run ? "would dispose" : "disposed", count("disposed"), kWidth);
  PrintField("held", count("held"), kWidth);
  for (auto it = r["held_by"].begin(); it != r["held_by"].end(); ++it) {
    PrintField("held by", it.key() + " (" + std::to_string(it.value().get<uint64_t>()) + ")",
               kWidth);
  }
  PrintField("not permitted", count("not_permitted"), kWidth);
  PrintField("messages", RangesText(r["messages"], ", ", "none"), kWidth);
  if (!dry_run) PrintField("entries", RangesText(r["entries"], ", ", "none"), kWidth);
}

int CmdPurge(Channel* channel, const PurgeCliOptions& o) {
  json req = Request("purge");
  req["dry_run"] = o.dry_run;
  if (o.limit != 0) req["limit"] = o.limit;
  json resp;
  Status s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  if (o.format == "json") {
    PrintJson(resp["report"]);
  } else {
    PrintPurgeReport(resp["report"]);
  }
  if (std::fflush(stdout) != 0) return Fail(Status::IOError("standard output: write failed"));
  return EX_OK;
}

}  // namespace

void RetentionCommands::AddTo(CLI::App* app) {
  auto formats = CLI::IsMember({"text", "json"});
  hold_ = app->add_subcommand("hold", "place, release and list legal holds");
  hold_->require_subcommand(1);

  hold_add_ = hold_->add_subcommand("add", "place a legal hold (prints its entry's seq)");
  hold_add_->add_option("--case", add_.case_id, "the case id (unique among holds in force)")
      ->required();
  hold_add_->add_option("--reason", add_.reason, "why (recorded in the hold entry)")->required();
  hold_add_->add_option("--department", add_.departments, "covers this department (repeatable)");
  hold_add_->add_option("--address", add_.addresses, "sender or a recipient (repeatable)");
  hold_add_->add_option("--since", add_.since, "captured at or after (ISO 8601)");
  hold_add_->add_option("--until", add_.until, "captured before (ISO 8601)");
  hold_add_->add_option("--seq", add_.seqs, "entry N or entries N-M (repeatable)")
      ->check(CLI::Validator(
          [](std::string& text) {
            std::pair<uint64_t, uint64_t> range;
            Status s = ParseSeqRange(text, &range);
            return s.ok() ? std::string() : s.message();
          },
          "N|N-M"));
  hold_add_->add_option("--format", add_.format, "text or json")->check(formats);

  hold_release_ = hold_->add_subcommand("release", "release a hold placed with hold add");
  hold_release_->add_option("--case", release_case_, "the case id")->required();
  hold_release_->add_option("--reason", release_reason_, "why (recorded)")->required();

  hold_list_ = hold_->add_subcommand("list", "the holds in force, the policy's and the journal's");
  hold_list_->add_option("--format", list_format_, "text or json")->check(formats);

  purge_ = app->add_subcommand(
      "purge", "dispose of the messages whose retention has ended and that no hold covers");
  purge_->add_flag("--dry-run", purge_options_.dry_run, "report only; dispose of nothing");
  purge_->add_option("--limit", purge_options_.limit, "dispose of at most this many messages")
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  purge_->add_option("--format", purge_options_.format, "text or json")->check(formats);
}

bool RetentionCommands::Selected() const { return *hold_ || *purge_; }

int RetentionCommands::Run(Channel* channel) const {
  if (*hold_add_) return CmdHoldAdd(channel, add_);
  if (*hold_release_) return CmdHoldRelease(channel, release_case_, release_reason_);
  if (*hold_list_) return CmdHoldList(channel, list_format_);
  return CmdPurge(channel, purge_options_);
}

}  // namespace mailjournal
