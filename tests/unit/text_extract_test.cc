// Text extraction (mailjournal/text_extract.h): fields, charsets, encodings, HTML, forwarded
// messages, malformed MIME and the body text cap. Non-ASCII test bytes are written as
// escapes in the charset under test (e.g. GB2312 "\xd6\xd0\xce\xc4" is 中文).
#include "mailjournal/text_extract.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mailjournal {
namespace {

using Strings = std::vector<std::string>;

// Whether `s` is UTF-8 (RFC 3629: no overlong forms, surrogates or code points past
// U+10FFFF) without NUL bytes.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t trailing;  // continuation bytes
    char32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      trailing = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      trailing = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      trailing = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + trailing >= s.size()) return false;
    for (size_t k = 1; k <= trailing; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((trailing == 2 && cp < 0x800) || (trailing == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += trailing + 1;
  }
  return true;
}

void CheckAllValidUtf8(const ExtractedText& t) {
  for (const Strings* field :
       {&t.from, &t.to, &t.subject, &t.body, &t.attachment, &t.message_id, &t.problems}) {
    for (const std::string& value : *field) {
      BOOST_TEST(IsValidUtf8(value), "not UTF-8: " << value);
    }
  }
}

// ExtractText, and every output checked for UTF-8.
ExtractedText Extract(std::string_view message, size_t max_text_bytes = kMaxExtractedText) {
  ExtractedText t = ExtractText(message, max_text_bytes);
  CheckAllValidUtf8(t);
  return t;
}

bool Contains(const Strings& field, std::string_view word) {
  for (const std::string& value : field) {
    if (value.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string Joined(const Strings& field) {
  std::string all;
  for (const std::string& value : field) all += value + "\n";
  return all;
}

size_t TotalBytes(const Strings& field) {
  size_t n = 0;
  for (const std::string& value : field) n += value.size();
  return n;
}

// A single-part message with the given Content-Type parameters and transfer encoding.
std::string TextMessage(std::string_view content_type, std::string_view encoding,
                        std::string_view body) {
  std::string m = "From: a@example.com\nSubject: s\nMIME-Version: 1.0\nContent-Type: ";
  m.append(content_type);
  m += "\n";
  if (!encoding.empty()) m += "Content-Transfer-Encoding: " + std::string(encoding) + "\n";
  m += "\n";
  m.append(body);
  return m;
}

// The subject extracted from a message whose raw Subject value is `value`.
std::string SubjectOf(std::string_view value) {
  ExtractedText t = Extract("From: a@example.com\nSubject: " + std::string(value) + "\n\nx\n");
  return t.subject.size() == 1 ? t.subject[0] : "subjects: " + Joined(t.subject);
}

BOOST_AUTO_TEST_SUITE(text_extract)

BOOST_AUTO_TEST_CASE(utf8_validator_of_these_tests) {
  BOOST_TEST(IsValidUtf8("ascii 中文 \xf0\xa0\x80\x80"));
  for (const char* bad : {"\xff", "\xc0\x80", "\xe4\xb8", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    BOOST_TEST(!IsValidUtf8(bad), bad);
  }
  BOOST_TEST(!IsValidUtf8(std::string_view("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(plain_ascii_fields) {
  ExtractedText t = Extract(
      "From: Alice Example <alice@example.com>\n"
      "Sender: sec@example.com\n"
      "Reply-To: replies@example.com\n"
      "To: Bob <bob@example.com>, carol@example.com\n"
      "Cc: dave@example.com\n"
      "Bcc: Eve <eve@example.com>\n"
      "Subject: Quarterly report\n"
      "Message-ID: <1234.abcd@example.com>\n"
      "\n"
      "Hello Bob,\nthe numbers are in.\n");
  BOOST_TEST(t.from == (Strings{"Alice Example alice@example.com", "sec@example.com",
                                "replies@example.com"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.to == (Strings{"Bob bob@example.com", "carol@example.com", "dave@example.com",
                              "Eve eve@example.com"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.subject == Strings{"Quarterly report"}, boost::test_tools::per_element());
  BOOST_TEST(t.body == Strings{"Hello Bob,\nthe numbers are in.\n"},
             boost::test_tools::per_element());
  BOOST_TEST(t.message_id == Strings{"1234.abcd@example.com"}, boost::test_tools::per_element());
  BOOST_TEST(t.attachment.empty());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(crlf_line_ends) {
  ExtractedText t = Extract(
      "From: a@example.com\r\nSubject: crlf subject\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
      "--B\r\nContent-Type: text/plain\r\n\r\ncrlf body\r\n--B--\r\n");
  BOOST_TEST(t.subject == Strings{"crlf subject"}, boost::test_tools::per_element());
  BOOST_TEST(t.body == Strings{"crlf body"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(quoted_printable_utf8) {
  // "Café 测试邮件" and a word broken by a soft line break.
  ExtractedText t = Extract(TextMessage("text/plain; charset=utf-8", "quoted-printable",
                                        "Caf=C3=A9 =E6=B5=8B=E8=AF=95=E9=82=AE=E4=BB=B6\n"
                                        "trans=\nfer done\n"));
  BOOST_TEST(t.body == Strings{"Café 测试邮件\ntransfer done\n"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(base64_gb2312_body) {
  // base64 of GB2312 "中文正文内容".
  ExtractedText t =
      Extract(TextMessage("text/plain; charset=gb2312", "base64", "1tDOxNX9zsTE2sjd\n"));
  BOOST_TEST(t.body == Strings{"中文正文内容"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(gbk_and_gb18030_bodies) {
  // 镕 (E9 46) is in GBK, not GB2312; U+20000 𠀀 and ä are four bytes each in GB18030 only.
  // Mailers write "gb2312" over all of them: every GB label is read as GB18030.
  for (const char* label : {"gb2312", "GB2312", "gbk", "x-gbk", "gb18030"}) {
    ExtractedText t = Extract(TextMessage(std::string("text/plain; charset=") + label, "8bit",
                                          "\xd6\xd0 \xe9\x46 \x95\x32\x82\x36 \x81\x30\x8a\x31\n"));
    BOOST_TEST(t.body == Strings{"中 镕 𠀀 ä\n"}, boost::test_tools::per_element());
    BOOST_TEST(t.problems.empty(), label << ": " << Joined(t.problems));
  }
}

BOOST_AUTO_TEST_CASE(big5_body_and_name) {
  // Big5 "中文" in the body, "張三" as an RFC 2047 display name ("sUmkVA==").
  ExtractedText t = Extract(
      "From: =?big5?B?sWmkVA==?= <zhang@example.tw>\n"
      "Subject: big5\n"
      "Content-Type: text/plain; charset=big5\n"
      "\n"
      "\xa4\xa4\xa4\xe5 \xc1\x63\xc5\xe9\n");
  BOOST_TEST(t.from == Strings{"張三 zhang@example.tw"}, boost::test_tools::per_element());
  BOOST_TEST(t.body == Strings{"中文 繁體\n"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(iso_2022_jp) {
  // "日本語" in the body (escape sequences in 7-bit bytes) and in the subject.
  ExtractedText t = Extract(
      "From: a@example.jp\n"
      "Subject: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\n"
      "Content-Type: text/plain; charset=ISO-2022-JP\n"
      "Content-Transfer-Encoding: 7bit\n"
      "\n"
      "\x1b$BF|K\\8l\x1b(B text\n");
  BOOST_TEST(t.subject == Strings{"日本語"}, boost::test_tools::per_element());
  BOOST_TEST(t.body == Strings{"日本語 text\n"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(latin1_read_as_windows_1252) {
  // 0x93/0x94 are C1 controls in ISO-8859-1 but the quotes senders meant (Windows-1252).
  ExtractedText t =
      Extract(TextMessage("text/plain; charset=iso-8859-1", "8bit", "caf\xe9 \x93quoted\x94\n"));
  BOOST_TEST(t.body == Strings{"café “quoted”\n"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(rfc2047_subjects) {
  // GB2312 base64 "中文主题", then UTF-8 Q "café".
  ExtractedText t = Extract(
      "From: a@example.com\n"
      "Subject: =?gb2312?B?1tDOxNb3zOI=?= and =?utf-8?Q?caf=C3=A9_au_lait?=\n"
      "\n"
      "body words\n");
  BOOST_TEST(t.subject == Strings{"中文主题 and café au lait"}, boost::test_tools::per_element());
  BOOST_TEST(!Contains(t.body, "中文主题"));
  BOOST_TEST(!Contains(t.subject, "body"));
}

BOOST_AUTO_TEST_CASE(rfc2047_adjacent_base64_words_after_padding) {
  // "研究报告：骆驼" (ends in '=' padding), folded, then "风筝" in a second GB2312 B word,
  // then UTF-8 Q: GMime 3.2.13 alone drops "风筝" (GMime issue #133). The same in a
  // forwarded message's Subject (body).
  const std::string subject =
      "Subject: =?GB2312?B?0dC+v7GouOajusLmzdU=?=\n =?GB2312?B?t+fz3Q==?= "
      "=?UTF-8?Q?_Q4_outlook?=\n";
  ExtractedText t = Extract("From: a@example.com\n" + subject +
                            "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                            "Content-Type: message/rfc822\n\nFrom: c@example.com\n" +
                            subject + "\ninner\n--b--\n");
  BOOST_TEST(t.subject == Strings{"研究报告：骆驼风筝 Q4 outlook"},
             boost::test_tools::per_element());
  BOOST_TEST(Contains(t.body, "研究报告：骆驼风筝 Q4 outlook"), Joined(t.body));
  // Words of different charsets or encodings are left to GMime as they are.
  t = Extract("Subject: =?GB2312?B?1tDOxA==?= =?BIG5?B?pKSk5Q==?= =?GB2312?Q?=D6=D0?=\n\nx\n");
  BOOST_TEST(t.subject == Strings{"中文中文中"}, boost::test_tools::per_element());
}

// GMime 3.2.13 drops every base64 encoded word after a padded one in a run of adjacent words
// of one charset (https://github.com/jstedfast/gmime/issues/133); the extractor works around
// it. The white space between adjacent encoded words is not text (RFC 2047 6.2).
BOOST_AUTO_TEST_CASE(rfc2047_adjacent_base64_words_with_padding_gb2312) {
  // GB2312 "中文" + "主题" and "张" + "三丰", every word padded.
  ExtractedText t = Extract(
      "From: =?gb2312?B?1cU=?= =?gb2312?B?yP234Q==?= <zhang@example.cn>\n"
      "Subject: =?GB2312?B?1tDOxA==?=\n =?GB2312?B?1vfM4g==?=\n"
      "\n"
      "x\n");
  BOOST_TEST(t.from == Strings{"张三丰 zhang@example.cn"}, boost::test_tools::per_element());
  BOOST_TEST(t.subject == Strings{"中文主题"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
  // GMime takes gb2312 and GBK for one charset, and so runs them together.
  BOOST_TEST(SubjectOf("=?gb2312?B?1tDOxA==?= =?GBK?B?1vfM4g==?=") == "中文主题");
}

BOOST_AUTO_TEST_CASE(rfc2047_adjacent_base64_words_with_padding_utf8) {
  // "季度报告 " + "Q4 outlook" + " 研究", folded, the last in lower case.
  BOOST_TEST(SubjectOf("=?UTF-8?B?5a2j5bqm5oql5ZGKIA==?=\n =?UTF-8?B?UTQgb3V0bG9vaw==?=\n"
                       " =?utf-8?B?IOeglOeptg==?=") == "季度报告 Q4 outlook 研究");
  // The example of the GMime issue, with a tab, then with nothing between the words.
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?=\t=?UTF-8?B?IHdvcmxk?=") == "Hello world");
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?==?UTF-8?B?IHdvcmxk?=") == "Hello world");
  ExtractedText crlf = Extract(
      "From: a@example.com\r\nSubject: =?UTF-8?B?SGVsbG8=?=\r\n "
      "=?UTF-8?B?IHdvcmxk?=\r\n\r\nx\r\n");
  BOOST_TEST(crlf.subject == Strings{"Hello world"}, boost::test_tools::per_element());
  // An RFC 2231 language does not change the charset.
  BOOST_TEST(SubjectOf("=?UTF-8*en?B?SGVsbG8=?= =?UTF-8*en?B?IHdvcmxk?=") == "Hello world");
  // Runs GMime reads right are its own: whole characters in unpadded words, and a
  // character split across unpadded words ("a中" and two bytes of 文, then its last byte).
  BOOST_TEST(SubjectOf("=?UTF-8?B?5Lit?= =?UTF-8?B?5paH?=") == "中文");
  BOOST_TEST(SubjectOf("=?UTF-8?B?YeS4reaW?= =?UTF-8?B?hw==?=") == "a中文");
}

BOOST_AUTO_TEST_CASE(rfc2047_word_split_across_encoded_words) {
  // "vondr" + "aqueth" is one word.
  BOOST_TEST(SubjectOf("=?UTF-8?B?dm9uZHI=?= =?UTF-8?B?YXF1ZXRo?=") == "vondraqueth");
  // A character split across padded words (RFC 2047 forbids it; some mailers split bytes):
  // 骆 and 驼 in UTF-8, 主 in GB2312.
  BOOST_TEST(SubjectOf("=?UTF-8?B?6aqG6Q==?= =?UTF-8?B?qbzpo47nrZ0=?=") == "骆驼风筝");
  BOOST_TEST(SubjectOf("=?GB2312?B?1tDOxNY=?= =?GB2312?B?98zi?=") == "中文主题");
}

BOOST_AUTO_TEST_CASE(rfc2047_mixed_b_and_q_words) {
  // GMime runs together only words of one encoding and charset; these it reads right.
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?= =?UTF-8?Q?_w=C3=B6rld?=") == "Hello wörld");
  BOOST_TEST(SubjectOf("=?UTF-8?Q?Hello?= =?UTF-8?Q?_w=C3=B6rld?=") == "Hello wörld");
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?= =?ISO-8859-1?B?IHf2cmxk?=") == "Hello wörld");
  // A Q word between base64 ones, before and after a run.
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?= =?UTF-8?Q?_x?= =?UTF-8?B?IHdvcmxk?=") ==
             "Hello x world");
  BOOST_TEST(SubjectOf("=?UTF-8?Q?caf=C3=A9?= =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= "
                       "=?UTF-8?Q?_!?=") == "caféHello world !");
}

BOOST_AUTO_TEST_CASE(rfc2047_encoded_words_and_plain_text) {
  // The white space between an encoded word and text is kept.
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?= world") == "Hello world");
  BOOST_TEST(SubjectOf("Re: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= again") ==
             "Re: Hello world again");
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?= x =?UTF-8?B?IHdvcmxk?=") == "Hello x  world");
  // Raw 8-bit text around a repaired run is still read with the fallback charsets.
  BOOST_TEST(SubjectOf("\xd6\xd0\xce\xc4 =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=") ==
             "中文 Hello world");
}

BOOST_AUTO_TEST_CASE(rfc2047_plain_text_unchanged) {
  for (const char* value : {"Quarterly report", "two  spaces\tand a tab", "a =? b ?= c",
                            "price =?=5 and x==?=", "=?= =?=?= ?= =?"}) {
    BOOST_TEST(SubjectOf(value) == value);
  }
}

BOOST_AUTO_TEST_CASE(rfc2047_malformed_words_left_as_is) {
  // An unknown encoding, no charset, no end: GMime leaves them as they are, and so do we.
  BOOST_TEST(SubjectOf("=?UTF-8?X?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=") ==
             "=?UTF-8?X?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=");
  BOOST_TEST(SubjectOf("=??B?SGVsbG8=?= =??B?IHdvcmxk?=") == "=??B?SGVsbG8=?= =??B?IHdvcmxk?=");
  BOOST_TEST(SubjectOf("=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk") == "Hello =?UTF-8?B?IHdvcmxk");
}

BOOST_AUTO_TEST_CASE(rfc2047_adjacent_words_in_every_decoded_header) {
  // "Hello" + " world", "研究部门 " + "Team", "季度报告 " + "Q4.pdf", "转发：" + "Hello"
  // + " world": in display names (quoted too), group names, duplicated headers, file names
  // (of a text part too) and a forwarded message.
  ExtractedText t = Extract(
      "From: \"=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=\" <a@example.com>\n"
      "Reply-To: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <r@example.com>\n"
      "To: =?UTF-8?B?56CU56m26YOo6ZeoIA==?= =?UTF-8?B?VGVhbQ==?=: "
      "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <b@example.com>;\n"
      "To: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <c@example.com>\n"
      "Cc: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <d@example.com>\n"
      "Subject: =?UTF-8?B?6L2s5Y+R77ya?= =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=\n"
      "Content-Type: multipart/mixed; boundary=\"M\"\n"
      "\n"
      "--M\n"
      "Content-Type: text/plain; charset=gb2312;\n"
      " name=\"=?UTF-8?B?5a2j5bqm5oql5ZGKIA==?= =?UTF-8?B?UTQ=?=.txt\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "1tDOxNX9zsTE2sjd\n"
      "--M\n"
      "Content-Type: application/pdf; name=\"=?UTF-8?B?5a2j5bqm5oql5ZGKIA==?= "
      "=?UTF-8?B?UTQucGRm?=\"\n"
      "\n"
      "%PDF\n"
      "--M\n"
      "Content-Type: application/octet-stream\n"
      "Content-Disposition: attachment;\n"
      " filename=\"=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=.txt\"\n"
      "\n"
      "x\n"
      "--M\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <inner@example.org>\n"
      "Subject: =?UTF-8?B?5a2j5bqm5oql5ZGKIA==?= =?UTF-8?B?UTQ=?= =?UTF-8?B?IHdvcmxk?=\n"
      "\n"
      "inner body\n"
      "--M--\n");
  BOOST_TEST(t.from == (Strings{"Hello world a@example.com", "Hello world r@example.com"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.to == (Strings{"研究部门 Team", "Hello world b@example.com",
                              "Hello world c@example.com", "Hello world d@example.com"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.subject == Strings{"转发：Hello world"}, boost::test_tools::per_element());
  BOOST_TEST(t.attachment == (Strings{"季度报告 Q4.txt", "季度报告 Q4.pdf", "Hello world.txt"}),
             boost::test_tools::per_element());
  // The text part's content type, parsed again, keeps its charset.
  BOOST_TEST(Contains(t.body, "中文正文内容"), Joined(t.body));
  BOOST_TEST(Contains(t.body, "Hello world inner@example.org"), Joined(t.body));
  BOOST_TEST(Contains(t.body, "季度报告 Q4 world"), Joined(t.body));
}

BOOST_AUTO_TEST_CASE(raw_8bit_headers_use_fallback_charsets) {
  // Unencoded GB2312 in Subject and in From's display name (张三).
  ExtractedText t = Extract(
      "From: \xd5\xc5\xc8\xfd <zhang.san@example.com>\n"
      "Subject: \xd6\xd0\xce\xc4 report\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "ok\n");
  BOOST_TEST(t.from == Strings{"张三 zhang.san@example.com"}, boost::test_tools::per_element());
  BOOST_TEST(t.subject == Strings{"中文 report"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(attachment_names_rfc2231_and_rfc2047) {
  ExtractedText t = Extract(
      "From: a@example.com\n"
      "Subject: files\n"
      "Content-Type: multipart/mixed; boundary=\"M\"\n"
      "\n"
      "--M\n"
      "Content-Type: text/plain\n"
      "\n"
      "see attached\n"
      "--M\n"
      "Content-Type: application/pdf\n"
      "Content-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQKc2VjcmV0cGRmd29yZAo=\n"
      "--M\n"
      "Content-Type: application/octet-stream; name=\"=?gb2312?B?uL28/i50eHQ=?=\"\n"
      "\n"
      "binary\n"
      "--M--\n");
  BOOST_TEST(t.attachment == (Strings{"报告.pdf", "附件.txt"}), boost::test_tools::per_element());
  BOOST_TEST(t.body == Strings{"see attached"}, boost::test_tools::per_element());
  // Neither the names nor non-text content reach the body.
  BOOST_TEST(!Contains(t.body, "报告"));
  BOOST_TEST(!Contains(t.body, "secretpdfword"));
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(html_only_message) {
  ExtractedText t = Extract(TextMessage("text/html; charset=utf-8", "",
                                        "<!DOCTYPE html><html><head><title>Title words</title>\n"
                                        "<style>p { color: red } .stylesecret {}</style>\n"
                                        "<script>var scriptsecret = 1;</script></head>\n"
                                        "<body><p>Hello<b>World</b> and <i>more</i></p>"
                                        "<table><tr><td>cell1</td><td>cell2</td></tr></table>"
                                        "<div>first</div><div>second</div>line<br>break\n"
                                        "<p>a &amp; b &lt;tag&gt; &#20013;&#25991; caf&eacute;</p>"
                                        "<!-- commentsecret --></body></html>\n"));
  BOOST_TEST_REQUIRE(t.body.size() == 1u);
  const std::string& body = t.body[0];
  for (const char* word : {"Title words", "HelloWorld and more", "a & b <tag> 中文 café"}) {
    BOOST_TEST(body.find(word) != std::string::npos, word << " in " << body);
  }
  // Block boundaries separate words; inline elements do not.
  for (const char* glued : {"cell1cell2", "firstsecond", "linebreak"}) {
    BOOST_TEST(body.find(glued) == std::string::npos, glued << " in " << body);
  }
  for (const char* hidden :
       {"stylesecret", "scriptsecret", "commentsecret", "<p", "<b>", "&amp;"}) {
    BOOST_TEST(body.find(hidden) == std::string::npos, hidden << " in " << body);
  }
}

BOOST_AUTO_TEST_CASE(html_meta_charset_does_not_override_mime_charset) {
  // The MIME charset (GB2312) has been applied; the page's own stale <meta> must not be.
  ExtractedText t = Extract(TextMessage(
      "text/html; charset=gb2312", "",
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">"
      "</head><body>\xd6\xd0\xce\xc4</body></html>"));
  BOOST_TEST(t.body == Strings{"中文"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nested_multiparts) {
  // mixed > (alternative > (plain, related > (html, image)), pdf)
  ExtractedText t = Extract(
      "From: a@example.com\n"
      "Subject: nested\n"
      "Content-Type: multipart/mixed; boundary=\"MIX\"\n"
      "\n"
      "--MIX\n"
      "Content-Type: multipart/alternative; boundary=\"ALT\"\n"
      "\n"
      "--ALT\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "plainalternative\n"
      "--ALT\n"
      "Content-Type: multipart/related; boundary=\"REL\"\n"
      "\n"
      "--REL\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<p>htmlalternative <img src=\"cid:logo\"></p>\n"
      "--REL\n"
      "Content-Type: image/png; name=\"logo.png\"\n"
      "Content-ID: <logo>\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "iVBORw0KGgo=\n"
      "--REL--\n"
      "--ALT--\n"
      "--MIX\n"
      "Content-Type: application/pdf\n"
      "Content-Disposition: attachment; filename=\"terms.pdf\"\n"
      "\n"
      "%PDF\n"
      "--MIX--\n");
  BOOST_TEST(t.body == (Strings{"plainalternative", "htmlalternative"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.attachment == (Strings{"logo.png", "terms.pdf"}), boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(text_attachment_text_is_body) {
  ExtractedText t = Extract(
      "From: a@example.com\n"
      "Subject: numbers\n"
      "Content-Type: multipart/mixed; boundary=\"M\"\n"
      "\n"
      "--M\n"
      "Content-Type: text/plain\n"
      "\n"
      "cover note\n"
      "--M\n"
      "Content-Type: text/csv; charset=utf-8; name=\"data.csv\"\n"
      "Content-Disposition: attachment; filename=\"data.csv\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "YWNjb3VudCxhbW91bnQKYWxwaGEsMTAwCg==\n"
      "--M--\n");
  BOOST_TEST(t.body == (Strings{"cover note", "account,amount\nalpha,100\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.attachment == Strings{"data.csv"}, boost::test_tools::per_element());
  BOOST_TEST(!Contains(t.body, "data.csv"));
}

BOOST_AUTO_TEST_CASE(forwarded_messages_land_in_body) {
  ExtractedText t = Extract(
      "From: Forwarder <fwd@example.com>\n"
      "To: boss@example.com\n"
      "Subject: Fwd: deal\n"
      "Message-ID: <outer@example.com>\n"
      "Content-Type: multipart/mixed; boundary=\"M\"\n"
      "\n"
      "--M\n"
      "Content-Type: text/plain\n"
      "\n"
      "see below\n"
      "--M\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: Inner Sender <inner@example.org>\n"
      "To: innerto@example.org\n"
      "Cc: innercc@example.org\n"
      "Subject: =?utf-8?B?5oql5ZGK?= innersubject\n"
      "Message-ID: <inner@example.org>\n"
      "Content-Type: multipart/mixed; boundary=\"I\"\n"
      "\n"
      "--I\n"
      "Content-Type: text/plain\n"
      "\n"
      "innerbody words\n"
      "--I\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: deepest@example.net\n"
      "Subject: deepestsubject\n"
      "\n"
      "deepestbody\n"
      "--I\n"
      "Content-Type: application/zip; name=\"inner.zip\"\n"
      "\n"
      "PK\n"
      "--I--\n"
      "--M--\n");
  for (const char* word : {"Inner Sender inner@example.org", "innerto@example.org",
                           "innercc@example.org", "报告 innersubject", "innerbody words",
                           "deepest@example.net", "deepestsubject", "deepestbody"}) {
    BOOST_TEST(Contains(t.body, word), word << " not in body: " << Joined(t.body));
  }
  // The forwarded headers are not the message's own.
  BOOST_TEST(t.from == Strings{"Forwarder fwd@example.com"}, boost::test_tools::per_element());
  BOOST_TEST(t.to == Strings{"boss@example.com"}, boost::test_tools::per_element());
  BOOST_TEST(t.subject == Strings{"Fwd: deal"}, boost::test_tools::per_element());
  BOOST_TEST(t.message_id == Strings{"outer@example.com"}, boost::test_tools::per_element());
  BOOST_TEST(t.attachment == Strings{"inner.zip"}, boost::test_tools::per_element());
  BOOST_TEST(t.problems.empty(), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(base64_encoded_forwarded_message) {
  // message/rfc822 in base64 (RFC 2046 forbids it; some mailers do it): GMime leaves it
  // unparsed, the extractor parses it. Inner: "From: Enc <enc@x.org>\nSubject: encsubject\n\n
  // encbody\n".
  ExtractedText t = Extract(
      "From: a@example.com\n"
      "Subject: fw\n"
      "Content-Type: multipart/mixed; boundary=\"X\"\n"
      "\n"
      "--X\n"
      "Content-Type: message/rfc822; name=\"fw.eml\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "RnJvbTogRW5jIDxlbmNAeC5vcmc+ClN1YmplY3Q6IGVuY3N1YmplY3QKCmVuY2JvZHkK\n"
      "--X--\n");
  BOOST_TEST(t.body == (Strings{"Enc enc@x.org", "encsubject", "encbody\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.attachment == Strings{"fw.eml"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nested_encoded_forwarded_messages_are_bounded) {
  // Quoted-printable does not shrink: 40 levels of encoded forwarding would mean 40 parses
  // of nearly the whole message. The extractor stops after a few times its size.
  std::string message = "Subject: level39\n\nword39\n";
  for (int i = 38; i >= 0; --i) {
    message = "Subject: level" + std::to_string(i) +
              "\nContent-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n" +
              message;
  }
  ExtractedText t = Extract(message);
  BOOST_TEST(t.subject == Strings{"level0"}, boost::test_tools::per_element());
  BOOST_TEST(Contains(t.body, "level1"));
  BOOST_TEST(!Contains(t.body, "word39"));
  BOOST_TEST(Contains(t.problems, "too large"), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(undeclared_8bit_bodies_are_guessed) {
  ExtractedText utf8 = Extract("From: a@example.com\nSubject: s\n\n\xe4\xb8\xad\xe6\x96\x87 utf\n");
  BOOST_TEST(utf8.body == Strings{"中文 utf\n"}, boost::test_tools::per_element());
  BOOST_TEST(utf8.problems.empty(), Joined(utf8.problems));

  ExtractedText gb = Extract("From: a@example.com\nSubject: s\n\n\xd6\xd0\xce\xc4 gb\n");
  BOOST_TEST(gb.body == Strings{"中文 gb\n"}, boost::test_tools::per_element());
  BOOST_TEST(Contains(gb.problems, "GB18030"), Joined(gb.problems));

  // "us-ascii" is what careless mailers write over 8-bit text: read as undeclared.
  ExtractedText ascii =
      Extract(TextMessage("text/plain; charset=us-ascii", "8bit", "\xd6\xd0\xce\xc4\n"));
  BOOST_TEST(ascii.body == Strings{"中文\n"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mislabelled_utf8_is_read_as_utf8) {
  // "中文" in UTF-8, labelled Big5: invalid as Big5, valid UTF-8.
  ExtractedText t =
      Extract(TextMessage("text/plain; charset=big5", "8bit", "\xe4\xb8\xad\xe6\x96\x87\n"));
  BOOST_TEST(t.body == Strings{"中文\n"}, boost::test_tools::per_element());
  BOOST_TEST(Contains(t.problems, "UTF-8"), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(malformed_multipart_still_yields_text) {
  ExtractedText t = Extract(
      "From: a@example.com\n"
      "Subject: broken\n"
      "Content-Type: multipart/mixed; boundary=B\n"
      "\n"
      "--B\n"
      "Content-Type: text/plain; charset=x-unknown\n"
      "\n"
      "\xd6\xd0\xce\xc4 unknowncharset\n"
      "--B\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "!!aGVsbG8g$$d29ybGQ=@@\n"
      "--B\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "bad \xff utf8\n"
      "--B\n"
      "Content-Type: text/plain\n"
      "\n"
      "never closed");
  BOOST_TEST(t.subject == Strings{"broken"}, boost::test_tools::per_element());
  BOOST_TEST(t.body == (Strings{"中文 unknowncharset", "hello world", "bad \xef\xbf\xbd utf8",
                                "never closed"}),
             boost::test_tools::per_element());
  BOOST_TEST(Contains(t.problems, "unknown charset x-unknown"), Joined(t.problems));
  BOOST_TEST(Contains(t.problems, "part 3: invalid in utf-8"), Joined(t.problems));
  BOOST_TEST(Contains(t.problems, "truncated"), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(truncated_and_headerless_input) {
  // Cut off inside a header line.
  ExtractedText cut = Extract("From: a@example.com\nSubject: cut subject\nContent-Ty");
  BOOST_TEST(cut.from == Strings{"a@example.com"}, boost::test_tools::per_element());
  BOOST_TEST(cut.subject == Strings{"cut subject"}, boost::test_tools::per_element());

  // No header at all: the text is still indexed.
  ExtractedText plain = Extract("just words without headers\n");
  BOOST_TEST(plain.body == Strings{"just words without headers\n"},
             boost::test_tools::per_element());
  BOOST_TEST(!plain.problems.empty());

  ExtractedText empty = Extract("");
  BOOST_TEST(empty.body.empty());
  BOOST_TEST(empty.subject.empty());
  BOOST_TEST(!empty.problems.empty());
}

BOOST_AUTO_TEST_CASE(binary_junk_never_crashes) {
  std::string junk("\x00\x01\xff\xfe junk\x00 \x80\x81\n\n\x00", 16);
  Extract(junk);
  Extract("Subject: \xff\xfe\x00x\n\n" + junk);
  Extract(TextMessage("text/html; charset=utf-16", "base64", "//5oAGkA\n"));
  Extract(TextMessage("multipart/mixed; boundary=\"\"", "", "--\n--\n\n"));
  Extract(TextMessage("text/plain; charset=\"utf-8//IGNORE\"", "", "a\xff b\n"));
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  Extract(all_bytes);
  Extract("Subject: s\n\n" + all_bytes);
  Extract(TextMessage("text/html", "", all_bytes));
}

BOOST_AUTO_TEST_CASE(body_text_cap) {
  // Three parts of 30 bytes each ("中" is 3 bytes); the cap falls inside the second, in
  // the middle of a character.
  std::string part;
  for (int i = 0; i < 10; ++i) part += "\xe4\xb8\xad";
  std::string message =
      "From: a@example.com\nSubject: cap\nContent-Type: multipart/mixed; boundary=B\n\n"
      "--B\nContent-Type: text/plain; charset=utf-8\n\n" +
      part +
      "\n"
      "--B\nContent-Type: text/plain; charset=utf-8\n\n" +
      part +
      "\n"
      "--B\nContent-Type: text/plain; charset=utf-8\n\n" +
      part + "\n--B--\n";
  ExtractedText t = Extract(message, 50);
  BOOST_TEST(TotalBytes(t.body) <= 50u);
  BOOST_TEST(TotalBytes(t.body) == 48u);  // 30 + 18: six whole characters of the second
  BOOST_TEST(t.body.size() == 2u);
  BOOST_TEST(Contains(t.problems, "50 bytes"), Joined(t.problems));
  BOOST_TEST(t.subject == Strings{"cap"}, boost::test_tools::per_element());

  ExtractedText all = Extract(message);
  BOOST_TEST(TotalBytes(all.body) == 90u);
  BOOST_TEST(all.problems.empty(), Joined(all.problems));
}

BOOST_AUTO_TEST_CASE(huge_part_is_cut_at_the_cap) {
  std::string big(200000, 'x');
  for (size_t i = 50; i < big.size(); i += 51) big[i] = ' ';
  ExtractedText t = Extract(TextMessage("text/plain", "", big), 1000);
  BOOST_TEST(TotalBytes(t.body) == 1000u);
  BOOST_TEST(Contains(t.problems, "1000 bytes"), Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_cut_off) {
  std::string message = "From: a@example.com\nSubject: deep\n";
  for (int i = 0; i < 200; ++i) {
    std::string b = "b" + std::to_string(i);
    message += "Content-Type: multipart/mixed; boundary=" + b + "\n\n--" + b +
               "\nContent-Type: text/plain\n\nlevel" + std::to_string(i) + "\n--" + b + "\n";
  }
  message += "Content-Type: text/plain\n\nbottom\n";
  ExtractedText t = Extract(message);
  BOOST_TEST(Contains(t.body, "level0"));
  BOOST_TEST(Contains(t.body, "level40"));
  BOOST_TEST(!Contains(t.body, "bottom"));
  BOOST_TEST(Contains(t.problems, "nested deeper"), Joined(t.problems));
  BOOST_TEST(t.problems.size() < 10u, Joined(t.problems));
}

BOOST_AUTO_TEST_CASE(group_addresses_and_unparsable_headers) {
  ExtractedText t = Extract(
      "From: ;;;Not An Address\n"
      "To: Team: a@example.com, B <b@example.com>;\n"
      "Subject: groups\n"
      "Message-ID: not-bracketed-id\n"
      "\n"
      "x\n");
  BOOST_TEST(Contains(t.from, "Not An Address"), Joined(t.from));
  BOOST_TEST(t.to == (Strings{"Team", "a@example.com", "B b@example.com"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.message_id == Strings{"not-bracketed-id"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(concurrent_calls_agree) {
  const std::vector<std::string> messages = {
      TextMessage("text/plain; charset=gb2312", "base64", "1tDOxNX9zsTE2sjd\n"),
      TextMessage("text/html; charset=utf-8", "", "<p>one</p><p>two &amp; three</p>"),
      "From: \xd5\xc5\xc8\xfd <z@example.cn>\nSubject: =?big5?B?pKSk5Q==?=\n\n\xa4\xa4\xa4\xe5\n",
  };
  std::vector<ExtractedText> expected;
  for (const std::string& m : messages) expected.push_back(ExtractText(m));
  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < mismatches.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 200; ++round) {
        size_t k = (i + round) % messages.size();
        ExtractedText t = ExtractText(messages[k]);
        if (t.body != expected[k].body || t.from != expected[k].from ||
            t.subject != expected[k].subject || t.problems != expected[k].problems) {
          ++mismatches[i];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int m : mismatches) BOOST_TEST(m == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
