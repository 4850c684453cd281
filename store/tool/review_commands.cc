// mailjournal review queue | mark | show, and mailjournal tag add | remove
// (mailjournal-review(8)): requests of the admin protocol's review_queue, review_mark,
// review_show and tag operations (policy/include/mailjournal/review_admin.h), and their
// output. Review notes are opened here, with the officer's private keys, never in the daemon.
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli.h"
#include "commands.h"
#include "entry_text.h"
#include "fetch.h"
#include "mailjournal/openssl_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

int Flushed() {
  if (std::fflush(stdout) != 0) return Fail(Status::IOError("standard output: write failed"));
  return EX_OK;
}

std::string FlagsText(const json& flags, bool sampled) {
  std::string text;
  for (const json& f : flags) {
    text += (text.empty() ? "" : ",") + Printable(f["lexicon"].get<std::string>());
  }
  if (sampled) text += text.empty() ? "(sampled)" : "+sampled";
  return text.empty() ? "-" : text;
}

std::string ListText(const json& list) {
  std::string text = JoinStrings(list, ",");
  return text.empty() ? "-" : Printable(text);
}

int CmdReviewQueue(Channel* channel, const ReviewQueueOptions& o) {
  json req = Request("review_queue");
  req["status"] = o.status;
  if (!o.department.empty()) req["department"] = o.department;
  if (!o.severity.empty()) req["severity"] = o.severity;
  bool text = o.format != "json";
  if (text) {
    std::printf("%-8s %-20s %-8s %-10s %-24s %-12s %s\n", "SEQ", "TIME", "SEVERITY", "STATUS",
                "FLAGS", "TAGS", "FROM -> TO (DEPARTMENTS)");
  }
  uint64_t printed = 0;
  for (;;) {
    uint64_t page = o.limit == 0 ? kMaxListLimit : std::min(kMaxListLimit, o.limit - printed);
    req["limit"] = page;
    json resp;
    Status s = channel->Call(req, &resp, NoPayload);
    if (!s.ok()) return Fail(s);
    for (const json& m : resp["messages"]) {
      if (!text) {
        PrintJson(m);
      } else {
        std::string who = "<" + Printable(m["mail_from"].get<std::string>()) + "> -> " +
                          ListText(m["rcpt"]) + " (" + ListText(m["departments"]) + ")";
        if (m["content"] == "disposed") who += " [content disposed of]";
        std::printf("%-8llu %-20s %-8s %-10s %-24s %-12s %s\n",
                    static_cast<unsigned long long>(m["seq"].get<uint64_t>()),
                    m["time"].get<std::string>().c_str(), m["severity"].get<std::string>().c_str(),
                    m["status"].get<std::string>().c_str(),
                    FlagsText(m["flags"], m["sampled"].get<bool>()).c_str(),
                    ListText(m["tags"]).c_str(), who.c_str());
      }
      ++printed;
    }
    if (!resp["more"].get<bool>() || (o.limit != 0 && printed >= o.limit)) break;
    req["after"] = resp["next"];
  }
  if (text && printed == 0) std::puts("(no message to review)");
  return Flushed();
}

int CmdReviewMark(Channel* channel, const ReviewMarkOptions& o) {
  json req = Request("review_mark");
  req["seq"] = o.seq;
  req["status"] = o.status;
  std::string note = o.note;
  if (!o.note_file.empty()) {
    Status s = ReadWholeFile(o.note_file, &note);
    if (!s.ok()) return Fail(s);
  }
  if (!note.empty()) req["note"] = note;
  json resp;
  Status s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  std::printf("message %llu marked %s: seq=%llu%s\n", static_cast<unsigned long long>(o.seq),
              o.status.c_str(), static_cast<unsigned long long>(resp["seq"].get<uint64_t>()),
              note.empty() ? "" : " (note sealed)");
  return Flushed();
}

// A review entry's sealed note, opened with one of the keys when one is a recipient: sets
// "note" (and drops the sealed form) or, in text, says why it stays sealed.
void OpenNote(const Opener& opener, bool have_keys, json* entry) {
  if (!entry->contains("note_sealed")) return;
  std::string sealed, note;
  Status s = Status::InvalidArgument("no --key given");
  if (have_keys) {
    s = Base64Decode((*entry)["note_sealed"].get<std::string>(), &sealed)
            ? opener.OpenSealed((*entry)["note_recipients"], sealed, &note)
            : Status::Corruption("note_sealed: not base64");
  }
  if (s.ok()) {
    entry->erase("note_sealed");
    entry->erase("note_recipients");
    (*entry)["note"] = note;
  } else {
    (*entry)["note_unopened"] = s.message();
  }
}

int CmdReviewShow(Channel* channel, const ReviewShowOptions& o) {
  Opener opener;
  Status s = opener.Load(o.keys.files, o.keys.passphrase_file);
  if (!s.ok()) return Fail(s);
  json req = Request("review_show");
  req["seq"] = o.seq;
  json resp;
  s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  json& entries = resp["entries"];
  for (json& e : entries) OpenNote(opener, !o.keys.files.empty(), &e);
  if (o.format == "json") {
    PrintJson(json{{"message", resp["message"]}, {"entries", entries}});
    return Flushed();
  }
  const json& m = resp["message"];
  PrintField("message", std::to_string(m["seq"].get<uint64_t>()));
  PrintField("departments", ListText(m["departments"]));
  std::string flags;
  for (const json& f : m["flags"]) {
    flags += (flags.empty() ? "" : ", ") + Printable(f["lexicon"].get<std::string>()) + " (" +
             f["severity"].get<std::string>() + ")";
  }
  PrintField("flags", flags.empty() ? "-" : flags);
  PrintField("sampled", m["sampled"].get<bool>() ? "yes" : "no");
  PrintField("status", m["status"].get<std::string>());
  PrintField("tags", ListText(m["tags"]));
  for (const json& e : entries) {
    std::printf("%s\n", EntryLine(e).c_str());
    if (e.contains("note")) {
      std::printf("    note: %s\n", Printable(e["note"].get<std::string>()).c_str());
    } else if (e.contains("note_unopened")) {
      std::printf("    note: (sealed: %s)\n",
                  Printable(e["note_unopened"].get<std::string>()).c_str());
    }
  }
  return Flushed();
}

int CmdTag(Channel* channel, const std::string& action, uint64_t seq, const std::string& tag) {
  json req = Request("tag");
  req["seq"] = seq;
  req["action"] = action;
  req["tag"] = tag;
  json resp;
  Status s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  std::printf("tag %s %s on message %llu: seq=%llu\n", tag.c_str(),
              action == "add" ? "added" : "removed", static_cast<unsigned long long>(seq),
              static_cast<unsigned long long>(resp["seq"].get<uint64_t>()));
  return Flushed();
}

}  // namespace

void ReviewCommands::AddTo(CLI::App* app) {
  auto formats = CLI::IsMember({"text", "json"});
  review_ = app->add_subcommand("review", "the supervision review queue and decisions");
  review_->require_subcommand(1);

  queue_ = review_->add_subcommand(
      "queue", "the flagged and sampled messages to review: highest severity, oldest first");
  queue_->add_option("--department", queue_options_.department, "this department's only");
  queue_->add_option("--severity", queue_options_.severity, "at least this severity")
      ->check(CLI::IsMember({"low", "medium", "high", "critical"}));
  queue_
      ->add_option("--status", queue_options_.status,
                   "unreviewed (default), reviewed, "
                   "escalated, closed or any")
      ->check(CLI::IsMember({"unreviewed", "reviewed", "escalated", "closed", "any"}));
  queue_->add_option("--limit", queue_options_.limit, "at most this many messages (0: all)");
  queue_->add_option("--format", queue_options_.format, "text or json")->check(formats);

  mark_ = review_->add_subcommand("mark", "record a review decision on a message");
  mark_->add_option("seq", mark_options_.seq, "the message's sequence number")->required();
  mark_->add_option("--status", mark_options_.status, "reviewed, escalated or closed")
      ->required()
      ->check(CLI::IsMember({"reviewed", "escalated", "closed"}));
  auto* note = mark_->add_option("--note", mark_options_.note, "a note (sealed)");
  mark_->add_option("--note-file", mark_options_.note_file, "the note from this file (sealed)")
      ->excludes(note);

  show_ = review_->add_subcommand("show", "a message's review decisions and tags");
  show_->add_option("seq", show_options_.seq, "the message's sequence number")->required();
  show_->add_option("--format", show_options_.format, "text or json")->check(formats);
  show_options_.keys.AddTo(show_);

  tag_ = app->add_subcommand("tag", "add or remove a tag on a message");
  tag_->require_subcommand(1);
  for (const char* action : {"add", "remove"}) {
    CLI::App* sub = tag_->add_subcommand(
        action,
        std::string(action) + (action[0] == 'a' ? " a tag to" : " a tag from") + " a message");
    sub->add_option("seq", tag_seq_, "the message's sequence number")->required();
    sub->add_option("tag", tag_name_, "the tag: 1 to 64 of A-Z a-z 0-9 . _ -")->required();
    (action[0] == 'a' ? tag_add_ : tag_remove_) = sub;
  }
}

bool ReviewCommands::Selected() const { return *review_ || *tag_; }

int ReviewCommands::Run(Channel* channel) const {
  if (*queue_) return CmdReviewQueue(channel, queue_options_);
  if (*mark_) return CmdReviewMark(channel, mark_options_);
  if (*show_) return CmdReviewShow(channel, show_options_);
  return CmdTag(channel, *tag_add_ ? "add" : "remove", tag_seq_, tag_name_);
}

}  // namespace mailjournal
