// mailjournal check-postfix's analysis (store/tool/postfix_check.h) and the man pages of
// mailjournal help (store/tool/help_page.h).
#include "postfix_check.h"

#include <boost/test/unit_test.hpp>

#include "help_page.h"

namespace mailjournal {
namespace {

const char kJournal[] = "unix:/var/spool/postfix/mailjournal/milter.sock";

// The recommended configuration (contrib/postfix/main.cf.fragment), as postconf -x shows it.
PostfixSettings Recommended() {
  PostfixSettings settings;
  ParsePostconfParameters(
      "queue_directory = /var/spool/postfix\n"
      "smtpd_milters = inet:127.0.0.1:8891, unix:mailjournal/milter.sock\n"
      "non_smtpd_milters = unix:mailjournal/milter.sock\n"
      "milter_default_action = tempfail\n"
      "content_filter =\n"
      "receive_override_options =\n"
      "smtpd_milter_maps =\n"
      "internal_mail_filter_classes =\n",
      &settings.main);
  ParseMasterServices(
      "smtp       inet  n       -       y       -       -       smtpd\n"
      "submission inet  n       -       y       -       -       smtpd -o "
      "syslog_name=postfix/submission\n"
      "pickup     unix  n       -       y       60      1       pickup\n"
      "cleanup    unix  n       -       y       -       0       cleanup\n",
      "submission/inet/syslog_name = postfix/submission\n", &settings.services);
  return settings;
}

std::vector<std::string> Bypasses(const PostfixSettings& settings) {
  return FindJournalBypasses(settings, kJournal, nullptr);
}

bool Mentions(const std::vector<std::string>& warnings, const std::string& part) {
  for (const std::string& w : warnings) {
    if (w.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postfix_check)

BOOST_AUTO_TEST_CASE(milter_lists_split_with_per_milter_settings) {
  auto milters = ParseMilterList(
      "inet:127.0.0.1:8891,unix:a/b.sock  { unix:mailjournal/milter.sock, default_action = accept "
      "}");
  BOOST_REQUIRE_EQUAL(milters.size(), 3u);
  BOOST_TEST(milters[0].socket == "inet:127.0.0.1:8891");
  BOOST_TEST(milters[1].socket == "unix:a/b.sock");
  BOOST_TEST(milters[2].socket == "unix:mailjournal/milter.sock");
  BOOST_TEST(milters[2].settings.at("default_action") == "accept");
  BOOST_TEST(ParseMilterList("").empty());
}

BOOST_AUTO_TEST_CASE(postfix_and_libmilter_spellings_of_one_socket_match) {
  BOOST_TEST(NormalizePostfixMilter("unix:mailjournal/milter.sock", "/var/spool/postfix") ==
             kJournal);
  BOOST_TEST(NormalizeDaemonMilter("unix:/var/spool/postfix/mailjournal/milter.sock") == kJournal);
  BOOST_TEST(NormalizeDaemonMilter("local:/var/spool/postfix/mailjournal/milter.sock") == kJournal);
  BOOST_TEST(NormalizePostfixMilter("inet:127.0.0.1:10029", "/q") ==
             NormalizeDaemonMilter("inet:10029@127.0.0.1"));
  BOOST_TEST(NormalizePostfixMilter("inet:[::1]:10029", "/q") ==
             NormalizeDaemonMilter("inet6:10029@[::1]"));
  BOOST_TEST(NormalizeDaemonMilter("inet:10029") == "");  // any address: not comparable
  BOOST_TEST(NormalizeDaemonMilter("unix:relative.sock") == "");
}

BOOST_AUTO_TEST_CASE(the_recommended_configuration_is_clean) {
  std::vector<std::string> notes;
  BOOST_TEST(FindJournalBypasses(Recommended(), kJournal, &notes).empty());
  BOOST_TEST(Mentions(notes, "internal_mail_filter_classes"));
}

BOOST_AUTO_TEST_CASE(each_bypass_is_reported) {
  PostfixSettings s = Recommended();
  s.main["non_smtpd_milters"] = "";
  BOOST_TEST(Mentions(Bypasses(s), "main.cf: non_smtpd_milters = : the journal milter is missing"));

  s = Recommended();
  s.main["smtpd_milters"] = "unix:mailjournal/milter.sock, inet:127.0.0.1:8891";
  BOOST_TEST(Mentions(Bypasses(s), "not last (inet:127.0.0.1:8891 comes after it)"));

  s = Recommended();
  s.main["milter_default_action"] = "accept";
  auto w = Bypasses(s);
  BOOST_TEST(w.size() == 2u);  // both lists
  BOOST_TEST(Mentions(w, "default action is 'accept', not tempfail"));

  // A per-milter action of its own wins over the global one, either way.
  s.main["smtpd_milters"] = "{ unix:mailjournal/milter.sock, default_action=tempfail }";
  s.main["non_smtpd_milters"] = "{ unix:mailjournal/milter.sock, default_action=tempfail }";
  BOOST_TEST(Bypasses(s).empty());
  s = Recommended();
  s.main["smtpd_milters"] = "{ unix:mailjournal/milter.sock, default_action=accept }";
  BOOST_TEST(Mentions(Bypasses(s), "main.cf: smtpd_milters"));

  s = Recommended();
  s.main["receive_override_options"] = "no_header_body_checks, no_milters";
  BOOST_TEST(Mentions(Bypasses(s), "main.cf: receive_override_options"));

  s = Recommended();
  s.main["content_filter"] = "smtp-amavis:[127.0.0.1]:10024";
  BOOST_TEST(Mentions(Bypasses(s), "main.cf: content_filter = smtp-amavis"));

  s = Recommended();
  s.main["smtpd_milter_maps"] = "cidr:/etc/postfix/milter_map";
  BOOST_TEST(Mentions(Bypasses(s), "smtpd_milter_maps"));
}

BOOST_AUTO_TEST_CASE(master_cf_overrides_are_reported_by_service) {
  PostfixSettings s = Recommended();
  s.services.clear();
  ParseMasterServices(
      "smtp       inet  n       -       y       -       -       smtpd\n"
      "submission inet  n       -       y       -       -       smtpd -o smtpd_milters=\n"
      "127.0.0.1:10025 inet n  -       n       -       -       smtpd -o "
      "receive_override_options=no_milters\n"
      "pickup     unix  n       -       y       60      1       pickup -o "
      "milter_default_action=accept\n"
      "cleanup    unix  n       -       y       -       0       cleanup -o "
      "non_smtpd_milters=inet:1.2.3.4:5\n",
      "submission/inet/smtpd_milters =\n"
      "127.0.0.1:10025/inet/receive_override_options = no_milters\n"
      "pickup/unix/milter_default_action = accept\n"
      "cleanup/unix/non_smtpd_milters = inet:1.2.3.4:5\n",
      &s.services);
  auto w = Bypasses(s);
  BOOST_TEST(w.size() == 4u);
  BOOST_TEST(Mentions(
      w, "master.cf service submission/inet: smtpd_milters = : the journal milter is missing"));
  BOOST_TEST(
      Mentions(w, "master.cf service 127.0.0.1:10025/inet: receive_override_options = no_milters"));
  BOOST_TEST(
      Mentions(w,
               "master.cf service pickup/unix: non_smtpd_milters = unix:mailjournal/milter.sock: "
               "the journal milter's default action is 'accept'"));
  BOOST_TEST(Mentions(w,
                      "master.cf service cleanup/unix: non_smtpd_milters = inet:1.2.3.4:5: the "
                      "journal milter is missing"));
}

BOOST_AUTO_TEST_CASE(help_pages_of_commands) {
  BOOST_TEST(FindHelpPage("search").page == "mailjournal-search");
  BOOST_TEST(FindHelpPage("reindex").page == "mailjournal-search");
  BOOST_TEST(FindHelpPage("hold").page == "mailjournal-hold");
  BOOST_TEST(FindHelpPage("purge").page == "mailjournal-purge");
  BOOST_TEST(FindHelpPage("audit").page == "mailjournal-audit");
  BOOST_TEST(FindHelpPage("audit").command == "");
  BOOST_TEST(FindHelpPage("list").page == "mailjournal");
  BOOST_TEST(FindHelpPage("list").command == "list");
  BOOST_TEST(FindHelpPage("").page == "mailjournal");
  BOOST_TEST(FindHelpPage("hold add").page == "mailjournal-hold");
  BOOST_TEST(FindHelpPage("policy check").command == "policy check");
  BOOST_TEST(HelpPageFile(FindHelpPage("search"), MAILJOURNAL_SOURCE_DIR "/man") ==
             MAILJOURNAL_SOURCE_DIR "/man/mailjournal-search.8");
  BOOST_TEST(HelpPageFile(FindHelpPage("search"), "/nonexistent") == "");
  auto installed = HelpCommands(FindHelpPage("list"), "", false);
  BOOST_REQUIRE_EQUAL(installed.size(), 1u);
  BOOST_TEST(installed[0].argv == (std::vector<std::string>{"man", "8", "mailjournal"}));
  auto paged = HelpCommands(FindHelpPage("list"), "/m/mailjournal.8", true);
  BOOST_REQUIRE_EQUAL(paged.size(), 2u);  // mandoc when man is missing
  BOOST_TEST(paged[0].argv == (std::vector<std::string>{"man", "-P", "less -p '^     list( |$)'",
                                                        "-l", "/m/mailjournal.8"}));
  auto printed = HelpCommands(FindHelpPage("hold"), "/m/mailjournal-hold.8", false);
  BOOST_REQUIRE_EQUAL(printed.size(), 2u);
  BOOST_TEST(printed[0].argv == (std::vector<std::string>{"man", "-l", "/m/mailjournal-hold.8"}));
  BOOST_TEST(printed[1].overstrike);
}

BOOST_AUTO_TEST_CASE(overstrike_is_removed_whole_characters_at_a_time) {
  BOOST_TEST(RemoveOverstrike("N\bNA\bAM\bME\bE\n") == "NAME\n");
  BOOST_TEST(RemoveOverstrike("_\bf_\bi_\bl_\be") == "file");
  BOOST_TEST(RemoveOverstrike("\xE2\x80\x94\b\xE2\x80\x94 x") == "\xE2\x80\x94 x");  // bold em dash
  BOOST_TEST(RemoveOverstrike("\bplain") == "plain");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace mailjournal
