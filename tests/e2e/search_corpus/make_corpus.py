#!/usr/bin/env python3
"""Writes the search test corpus: NN-name.eml (CRLF, byte-exact, the same bytes on every run)
and cases.json, next to this file (or into the directory given as the only argument).

Python 3 standard library only. Charset bytes come from Python's codecs, transfer encodings
from base64/quopri; RFC 2047 words are made here (ew()) and some edge cases by hand. Every
message is built explicitly, header by header, so what is in a file is what is written below.
See README.md for what cases.json holds and check_corpus.py for the self-check.
"""

import base64
import json
import os
import quopri
import random
import sys
import textwrap
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

SALES = "sales.example.com"
RESEARCH = "research.example.com"

CASES = []


# ---------------------------------------------------------------------------------------------
# building blocks

def text(s):
    """A dedented text block with a final newline (LF; CRLF is applied when encoding)."""
    s = textwrap.dedent(s)
    if s.startswith("\n"):
        s = s[1:]
    if not s.endswith("\n"):
        s += "\n"
    return s


def crlf_bytes(b):
    """LF line ends to CRLF (the input must not already hold CR)."""
    assert b"\r" not in b
    return b.replace(b"\n", b"\r\n")


def enc(s, codec):
    """Text in a charset, CRLF line ends; strict: every character must encode."""
    return crlf_bytes(s.encode(codec))


def b64(data, width=76):
    """Base64 in lines of `width` characters, each ending in CRLF."""
    e = base64.b64encode(data)
    return b"".join(e[i:i + width] + b"\r\n" for i in range(0, len(e), width))


def qp(s, codec):
    """Quoted-printable of text `s` in `codec` (soft breaks at 76 columns), CRLF line ends."""
    return crlf_bytes(quopri.encodestring(s.encode(codec)))


def ew(s, charset, codec=None, mode="B", maxlen=75):
    """RFC 2047 encoded word(s) for `s`; split at character boundaries so that no word is longer
    than maxlen, words separated by CRLF SPACE (a fold)."""
    codec = codec or charset

    def one(chunk):
        raw = chunk.encode(codec)
        if mode == "B":
            payload = base64.b64encode(raw).decode("ascii")
        else:
            out = []
            for byte in raw:
                c = chr(byte)
                if c == " ":
                    out.append("_")
                elif c.isalnum() and byte < 0x80:
                    out.append(c)
                else:
                    out.append("=%02X" % byte)
            payload = "".join(out)
        return "=?%s?%s?%s?=" % (charset, mode, payload)

    words = []
    cur = ""
    for ch in s:
        if cur and len(one(cur + ch)) > maxlen:
            words.append(one(cur))
            cur = ch
        else:
            cur += ch
    if cur:
        words.append(one(cur))
    return "\r\n ".join(words)


def rfc2231(s, charset="UTF-8", codec="utf-8"):
    """An RFC 2231 extended value: charset''percent-encoded."""
    return "%s''%s" % (charset, urllib.parse.quote(s.encode(codec), safe=""))


def headers(pairs):
    """Header lines from (name, value) pairs; a value may be str (ASCII) or bytes (raw)."""
    out = b""
    for name, value in pairs:
        if isinstance(value, str):
            value = value.encode("ascii")
        out += name.encode("ascii") + b": " + value + b"\r\n"
    return out


def entity(pairs, body):
    """A MIME entity (or a whole message): headers, empty line, body."""
    return headers(pairs) + b"\r\n" + body


def multipart(boundary, parts, preamble=b"", epilogue=b"", close=True):
    """A multipart body. Each part ends with CRLF, which is the CRLF of the next delimiter."""
    b = boundary.encode("ascii")
    out = preamble
    for p in parts:
        assert p.endswith(b"\r\n")
        out += b"--" + b + b"\r\n" + p
    if close:
        out += b"--" + b + b"--\r\n"
    return out + epilogue


def fake_binary(seed, header, n, trailer=b""):
    """Deterministic binary junk that starts like the file type it pretends to be."""
    rnd = random.Random(seed)
    return header + rnd.randbytes(n) + trailer


def fake_pdf(seed, title):
    head = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
            b"3 0 obj\n<< /Length 1800 /Filter /FlateDecode >>\nstream\n")
    tail = (b"\nendstream\nendobj\n4 0 obj\n<< /Title (" + title.encode("ascii") +
            b") /Producer (Statement Engine 7.2) >>\nendobj\ntrailer\n<< /Root 1 0 R /Info 4 0 R >>\n%%EOF\n")
    return fake_binary(seed, head, 1800, tail)


def fake_png(seed):
    return fake_binary(seed, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 600, b"\x00\x00\x00\x00IEND\xaeB`\x82")


def base64_debris_token(b64text):
    """A token of the raw base64 text (as the tokenizer would cut it: runs of letters and
    digits) that is long, mixes letters and digits, and is not a marker-like word: a query for
    it must find nothing, because raw base64 is never indexed."""
    tok = ""
    for ch in b64text.decode("ascii") + "\n":
        if ch.isalnum():
            tok += ch
            continue
        if 16 <= len(tok) <= 40 and any(c.isdigit() for c in tok) and any(c.isalpha() for c in tok):
            return tok
        tok = ""
    raise AssertionError("no debris token")


def add(file, data, mail_from, rcpts, markers, find, miss, note, find_best_effort=()):
    departments = sorted({d for d, dom in (("sales", SALES), ("research", RESEARCH))
                          for r in rcpts if r.lower().endswith("@" + dom)})
    c = {"file": file, "mail_from": mail_from, "rcpts": list(rcpts), "departments": departments,
         "markers": list(markers), "find": list(find), "miss": list(miss), "note": note}
    if find_best_effort:
        c["find_best_effort"] = list(find_best_effort)
    CASES.append((c, data))


DATE = "Mon, 02 Nov 2026 %s +0800"


# ---------------------------------------------------------------------------------------------
# 01-09: confirmations, Chinese charsets, RFC 2047 subjects, quoted-printable

def case01():
    body = text("""
        Dear Mr Chen,

        We confirm the following transaction executed on your behalf today:

          Trade date:       02 Nov 2026
          Settlement date:  04 Nov 2026
          Side:             BUY
          Security:         HSBC Holdings plc (0005.HK)
          Quantity:         12,000
          Price:            HKD 67.35
          Consideration:    HKD 808,200.00
          Commission:       HKD 1,616.40
          Account:          HS-88213-C
          Confirmation ref: zqvexlorp

        Please check the details and notify us within one business day if anything
        is incorrect. Unreported discrepancies will be deemed accepted.

        Harbor Securities Ltd, Trade Support
        This message is confidential and intended for the addressee only.
        """)
    data = entity([
        ("From", '"Harbor Securities Trade Desk" <tradedesk@harbor-securities.example.net>'),
        ("To", '"Chen Li" <li.chen@sales.example.com>'),
        ("Cc", "settlements@sales.example.com"),
        ("Subject", "Trade confirmation TC-20261102-0457: BUY 12,000 HSBC Holdings"),
        ("Date", DATE % "09:15:02"),
        ("Message-ID", "<TC-20261102-0457.1@harbor-securities.example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=us-ascii"),
        ("Content-Transfer-Encoding", "7bit"),
    ], enc(body, "ascii"))
    add("01-trade-confirmation.eml", data, "tradedesk@harbor-securities.example.net",
        ["li.chen@sales.example.com", "settlements@sales.example.com"],
        ["zqvexlorp"],
        ["zqvexlorp", "ZQVEXLORP", "subject:confirmation", '"deemed accepted"',
         "from:harbor-securities", "to:li.chen@sales.example.com",
         "message-id:TC-20261102-0457", "(zqvexlorp OR nosuchwordanywhere) -brantuvel"],
        ["brantuvel", "subject:zqvexlorp", '"accepted deemed"', "NOT zqvexlorp", "to:harbor"],
        "plain 7-bit ASCII trade confirmation; field restrictions, phrase order, message-id")


def case02():
    body = text("""
        各位理财经理：

        本周新上线“金穗稳盈3号”理财产品，年化收益率4.85%，期限182天，起购金额5万元。
        客户沟通要点：本产品保本保收益，稳赚不赔，可放心向风险承受能力较低的客户推荐。
        （注：以上话术请勿写入书面材料。）
        认购满20万元赠送鸵鸟蛋糕礼盒一份。

        产品代码：JS-WY-003
        内部识别码：brantuvel

        富利财富 产品部 王经理
        电话：021-5555-0123
        """)
    data = entity([
        ("From", ew("王经理", "GB2312") + " <wang.jl@fortune-wealth.example.cn>"),
        ("To", ew("理财经理", "GB2312") + " <wealth-team@sales.example.com>"),
        ("Subject", ew("【新品推荐】稳健理财产品 保本保收益", "GB2312")),
        ("Date", DATE % "10:02:11"),
        ("Message-ID", "<20261102100211.5501@fortune-wealth.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="gb2312"'),
        ("Content-Transfer-Encoding", "base64"),
        ("X-Mailer", "Foxmail 7.2.25.375[cn]"),
    ], b64(enc(body, "gb2312")))
    add("02-gb2312-wealth-pitch.eml", data, "wang.jl@fortune-wealth.example.cn",
        ["wealth-team@sales.example.com"],
        ["brantuvel", "鸵鸟蛋糕"],
        ["brantuvel", "保本保收益", "稳赚不赔", "subject:保本保收益", "鸵鸟蛋糕", "from:王经理",
         '"理财产品 年化收益率"', "保本 AND 稳赚不赔"],
        ["subject:稳赚不赔", "保本收益", "zqvexlorp", "-brantuvel", "attachment:理财产品"],
        "GB2312 body in base64; RFC 2047 GB2312 subject and display names; wealth-product sales "
        "talk (保本保收益, 稳赚不赔); 保本收益 is not contiguous (本收 is no bigram of it)")


def case03():
    body = text("""
        尊敬的客服：

        我叫王喆，是贵行的老客户。去年十月，理财经理李镕向我推荐“金穗稳盈”产品，
        口头承诺保本，并说这个产品稳赚不赔，我才把养老钱四十万元全部买入。
        现在产品到期亏损了百分之八，这与当时说的完全不一样。

        我要求：
        1. 调取当时的录音录像（双录）资料；
        2. 全额赔偿本金损失；
        3. 对该理财经理作出处理。

        附：购买凭证编号 GY-2025-10-3318。我的客户参考：quindorath
        另外，网点赠送的琥珀灯塔摆件我也会一并退回。

        王喆
        手机：139-0000-1234
        """)
    data = entity([
        ("From", ew("王喆", "GBK") + " <wangzhe1978@mailbox.example.cn>"),
        ("To", "kefu@sales.example.com"),
        ("Cc", ew("合规审查", "GBK") + " <compliance-review@research.example.com>"),
        ("Subject", ew("投诉：理财经理承诺稳赚不赔", "GBK", mode="Q")),
        ("Date", DATE % "21:47:30"),
        ("Message-ID", "<a3f1c2e0-77b1-4c1e-9d0a-3318@mailbox.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=GBK"),
        ("Content-Transfer-Encoding", "8bit"),
    ], enc(body, "gbk"))
    add("03-gbk-complaint.eml", data, "wangzhe1978@mailbox.example.cn",
        ["kefu@sales.example.com", "compliance-review@research.example.com"],
        ["quindorath", "琥珀灯塔"],
        ["quindorath", "王喆", "李镕", "from:王喆", "subject:稳赚不赔", "琥珀灯塔", "双录",
         "to:compliance-review"],
        ["subject:李镕", "本金赔偿", "brantuvel", "NOT 琥珀灯塔"],
        "GBK 8-bit body with characters outside GB2312 (喆, 镕); RFC 2047 GBK subject in Q "
        "encoding; client complaint about mis-selling; recipients in both departments")


def case04():
    body = text("""
        研究部同事：

        客户开户资料中姓名含生僻字，核心系统无法显示，请协助核对：
          客户甲：陈𠀀华（第二字为扩展B区汉字，码位U+20000）
          客户乙：林㐀（第二字为扩展A区汉字，码位U+3400）
        证件影像已上传。开户经办：plesmorvik
        附言：本月营销物料为企鹅信封，请勿随对账单寄出。
        报价币种：€ 欧元
        """)
    data = entity([
        ("From", ew("开户运营", "GB18030") + " <kyc-ops@branch-ops.example.cn>"),
        ("To", "kyc-desk@research.example.com"),
        ("Subject", ew("客户姓名生僻字核对（GB18030）", "GB18030")),
        ("Date", DATE % "11:20:45"),
        ("Message-ID", "<kyc-20261102-0042@branch-ops.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=GB18030"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(body, "gb18030"))
    add("04-gb18030-rare-chars.eml", data, "kyc-ops@branch-ops.example.cn",
        ["kyc-desk@research.example.com"],
        ["plesmorvik", "企鹅信封"],
        ["plesmorvik", "陈𠀀华", "林㐀", "企鹅信封", "subject:生僻字", "ＰＬＥＳＭＯＲＶＩＫ"],
        ["陈华", "subject:plesmorvik", "quindorath", "-企鹅信封"],
        "GB18030 body in quoted-printable with 4-byte sequences (U+20000 𠀀, U+3400 㐀) and "
        "the euro sign; RFC 2047 GB18030 subject; full-width query of the marker")


def case05():
    body = text("""
        親愛的客戶您好：

        本行最新推出「富貴雙利」理財商品，保本保息，穩賺不賠，年息高達百分之六。
        認購期間至十一月三十日止，每人限購新臺幣三百萬元。
        首次認購即贈送龍蝦書架一座。

        如有任何問題，請洽您的專屬理財專員。
        活動代碼：travolunex

        瑞豐商業銀行 財富管理部
        """)
    data = entity([
        ("From", ew("瑞豐銀行財富管理部", "Big5") + " <wealth@ruifeng-bank.example.tw>"),
        ("To", "tw-desk@research.example.com"),
        ("Subject", ew("【理財商品】保本保息 穩賺不賠 限時認購", "Big5")),
        ("Date", DATE % "14:05:00"),
        ("Message-ID", "<RF.20261102.140500.778@ruifeng-bank.example.tw>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=Big5"),
        ("Content-Transfer-Encoding", "base64"),
    ], b64(enc(body, "big5")))
    add("05-big5-taiwan-pitch.eml", data, "wealth@ruifeng-bank.example.tw",
        ["tw-desk@research.example.com"],
        ["travolunex", "龍蝦書架"],
        ["travolunex", "穩賺不賠", "保本保息", "subject:理財商品", "龍蝦書架", '"富貴雙利"',
         "穩賺不賠 OR 稳赚不赔"],
        ["稳赚不赔", "subject:龍蝦書架", "brantuvel"],
        "Big5 body in base64 and RFC 2047 Big5 subject (traditional characters); the "
        "simplified 稳赚不赔 must not match the traditional 穩賺不賠 (no variant folding)")


def case06():
    body = text("""
        陳先生：

        閣下的保單（編號 HK-LIFE-2231907）將於二零二六年十二月一日續期。
        本年度保費為港幣 18,460 元，請於到期日前繳付。
        如選擇自動轉賬，請填妥附上的授權書並交回本公司。
        客戶服務參考：kestrimble
        溫馨提示：今年周年禮品為麒麟鍋貼模具。

        恆德人壽保險有限公司 客戶服務部
        """)
    data = entity([
        ("From", '"Hang Tak Life" <renewals@hangtak-life.example.hk>'),
        ("To", '"HK Renewals" <hk-renewals@sales.example.com>'),
        ("Subject", ew("保單續期通知", "big5", mode="Q") + " HK-LIFE-2231907"),
        ("Date", DATE % "16:30:12"),
        ("Message-ID", "<renewal.2231907.20261102@hangtak-life.example.hk>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="big5"'),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(body, "big5"))
    add("06-big5-qp-insurer.eml", data, "renewals@hangtak-life.example.hk",
        ["hk-renewals@sales.example.com"],
        ["kestrimble", "麒麟鍋貼"],
        ["kestrimble", "保單", "麒麟鍋貼", "subject:續期", '"18,460"', "to:sales",
         "subject:hk-life-2231907"],
        ["subject:保費", "續期保單", "travolunex"],
        "Big5 body in quoted-printable (ASCII-range trail bytes stay literal); lower-case "
        "=?big5?Q?...?= subject followed by plain text")


def case07():
    body = text("""
        附上第四季度宏观展望摘要：
        - 预计央行维持政策利率不变；
        - 信用利差继续收窄；
        - 人民币汇率在区间内双向波动。
        完整报告见内网。
        """)
    # adjacent encoded words (the white space between them, a fold included, is not text):
    # the marker 骆驼风筝 is split across two words; then a UTF-8 Q word with underscores.
    subject = ("=?GB2312?B?" + base64.b64encode("研究报告：骆驼".encode("gb2312")).decode() + "?="
               "\r\n =?GB2312?B?" + base64.b64encode("风筝".encode("gb2312")).decode() + "?= "
               "=?UTF-8?Q?_Q4_outlook_vondraqueth?=")
    data = entity([
        ("From", ew("李研究员", "UTF-8") + " <li.yan@research-partner.example.org>"),
        ("To", "=?GB2312?Q?" + "".join("=%02X" % b for b in "研究部".encode("gb2312")) +
         "?= <desk@research.example.com>"),
        ("Subject", subject),
        ("Date", DATE % "08:00:00"),
        ("Message-ID", "<q4-outlook-0007@research-partner.example.org>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ], enc(body, "utf-8"))
    add("07-rfc2047-adjacent-words.eml", data, "li.yan@research-partner.example.org",
        ["desk@research.example.com"],
        ["vondraqueth", "骆驼风筝"],
        ["subject:骆驼风筝", "vondraqueth", 'subject:"Q4 outlook"', "from:李研究员", "to:研究部",
         "信用利差", "subject:研究报告 骆驼风筝"],
        ["subject:信用利差", "body:vondraqueth", '"outlook Q4"', "kestrimble"],
        "RFC 2047: adjacent encoded words (GB2312 B, folded, then UTF-8 Q with underscores) "
        "whose separating white space disappears, 骆驼风筝 split across two words, the first "
        "ending in base64 padding. GMime 3.2.13 (Debian 12) drops the second word (GMime "
        "issue #133, fixed in 3.2.14): subject:骆驼风筝 fails there unless the extractor "
        "works around it; vondraqueth is found either way. Q-encoded GB2312 display name in To")


def case08():
    # Subject in raw, undeclared GB2312 bytes (common from old Chinese mailers)
    subject = "柠檬火车客户答谢会安排 mirthelgax".encode("gb2312")
    body = text("""
        各位同事：
        本周六下午两点举办客户答谢会，地点在浦东分行三楼会议室。
        届时将介绍基金定投和养老理财产品，请提前邀请客户。
        """)
    data = entity([
        ("From", "events@pudong-branch.example.cn"),
        ("To", "sales-sh@sales.example.com"),
        ("Subject", subject),
        ("Date", DATE % "09:40:00"),
        ("Message-ID", "<evt-0908@pudong-branch.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=gb2312"),
        ("Content-Transfer-Encoding", "8bit"),
    ], enc(body, "gb2312"))
    add("08-raw-gb2312-subject.eml", data, "events@pudong-branch.example.cn",
        ["sales-sh@sales.example.com"],
        ["mirthelgax", "柠檬火车"],
        ["mirthelgax", "subject:mirthelgax", "基金定投", "body:答谢会"],
        ["body:mirthelgax", "subject:基金定投", "vondraqueth"],
        "malformed: unencoded 8-bit GB2312 bytes in the Subject (no RFC 2047); the ASCII "
        "marker is certain, the Chinese words of the subject need the charset guess",
        find_best_effort=["柠檬火车", "subject:答谢会"])


def case09():
    # hand-made quoted-printable: soft line breaks split the marker word, and split the
    # UTF-8 bytes of one character of 松鼠钢琴 (鼠 = E9 BC A0) across two lines
    qp_text = (
        "Dear research team,\n"
        "\n"
        "Please review the client's request below. Internal reference snor=\n"
        "vadlik, filed under the =E6=9D=BE=E9=BC=\n"
        "=A0=E9=92=A2=E7=90=B4 programme. The client asks whether the structured =\n"
        "note is principal-protected (=E4=BF=9D=E6=9C=AC) and how the coupon =3D 3.2% p.a=\n"
        ". is computed.=20\n"
        "\n"
        "Regards,\n"
        "Client Services\n")
    data = entity([
        ("From", '"Client Services" <client.services@privatebank.example.ch>'),
        ("To", "structured-products@research.example.com"),
        ("Subject", "Client query: principal protection"),
        ("Date", DATE % "13:13:13"),
        ("Message-ID", "<cs-query-0009@privatebank.example.ch>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], crlf_bytes(qp_text.encode("ascii")))
    add("09-qp-soft-breaks.eml", data, "client.services@privatebank.example.ch",
        ["structured-products@research.example.com"],
        ["snorvadlik", "松鼠钢琴"],
        ["snorvadlik", "松鼠钢琴", 'body:"structured note"', "body:保本", '"coupon 3.2"',
         "SNORVADLIK"],
        ["snor", "vadlik", "subject:snorvadlik", "mirthelgax"],
        "quoted-printable soft line breaks inside the marker word and inside one UTF-8 "
        "character's bytes; =3D and a trailing =20")


# ---------------------------------------------------------------------------------------------
# 10-14: base64, HTML-only newsletters, Outlook alternative/related, deep nesting

def case10():
    body = text("""
        Weekly sales bulletin, week 45

        Top products by inflow:
          1. Steady Income Fund A (稳健收益A) - CNY 182m
          2. Balanced Growth Portfolio - CNY 96m
          3. Gold-linked deposit - CNY 41m

        Reminder: never describe any product as guaranteed. Phrases such as 保本保收益
        or 稳赚不赔 are prohibited in client communication.

        Bulletin code glemptoriax. Prize for the top team: 孔雀雨伞.
        """)
    data = entity([
        ("From", '"Sales Management" <sales-mgmt@group-hq.example.com>'),
        ("To", "all-rm@sales.example.com"),
        ("Subject", "Weekly sales bulletin W45"),
        ("Date", DATE % "07:30:00"),
        ("Message-ID", "<bulletin-2026-w45@group-hq.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "base64"),
    ], b64(enc(body, "utf-8"), width=70))
    add("10-base64-odd-lines.eml", data, "sales-mgmt@group-hq.example.com",
        ["all-rm@sales.example.com"],
        ["glemptoriax", "孔雀雨伞"],
        ["glemptoriax", "孔雀雨伞", '"Balanced Growth Portfolio"', "稳健收益", "body:prohibited",
         "(guaranteed AND prohibited) -zqvexlorp"],
        ["subject:prohibited", '"growth balanced"', "guarantee", "snorvadlik"],
        "UTF-8 body in base64 with 70-character lines (not a multiple of 4); no stemming: "
        "'guarantee' must not find 'guaranteed'")


def case11():
    html = text("""
        <!DOCTYPE html>
        <html>
        <head>
        <meta charset="utf-8">
        <title>Market Pulse</title>
        <style type="text/css">
        body { font-family: Arial, sans-serif; }
        .zelvanocss { color: #003366; }
        </style>
        <script type="text/javascript">
        var trk = "blorvingscript";
        function ping() { return "krampelhoof"; }
        </script>
        </head>
        <body>
        <table width="600" class="wrapper">
        <tr>
        <td>
        <h1>Market Pulse &mdash; November 2026</h1>
        </td>
        </tr>
        <tr>
        <td>
        <p>Equities rallied for a third week while credit spreads tightened.</p>
        <p>Our house view: stay <b>overweight</b> investment-grade bonds.</p>
        </td>
        </tr>
        </table>
        <table class="data">
        <tr>
        <th>Index</th>
        <th>Level</th>
        <th>Change</th>
        </tr>
        <tr>
        <td>CSI 300</td>
        <td>4,102.55</td>
        <td>+1.8%</td>
        </tr>
        <tr>
        <td>Hang Seng</td>
        <td>19,877.10</td>
        <td>+2.4%</td>
        </tr>
        </table>
        <p>Subscriber code: fraxinodel &middot; Gift of the month: &#x6D77;&#x8C5A;&#x8336;&#x58F6;</p>
        <p><a href="https://news.example.org/unsubscribe?u=quorbelhref">Unsubscribe</a></p>
        </body>
        </html>
        """)
    data = entity([
        ("From", '"Market Pulse" <newsletter@news.example.org>'),
        ("To", "analysts@research.example.com"),
        ("Subject", "Market Pulse - November 2026"),
        ("Date", DATE % "06:00:00"),
        ("Message-ID", "<mp-2026-11.88120@news.example.org>"),
        ("List-Unsubscribe", "<https://news.example.org/unsubscribe?u=quorbelhref>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(html, "utf-8"))
    add("11-html-only-newsletter.eml", data, "bounce-88120@mailer.news.example.org",
        ["analysts@research.example.com"],
        ["fraxinodel", "海豚茶壶"],
        ["fraxinodel", "海豚茶壶", '"credit spreads tightened"', "overweight", '"Hang Seng"',
         'subject:"market pulse"', "from:mailer"],
        ["blorvingscript", "krampelhoof", "zelvanocss", "quorbelhref", '"spreads credit"',
         "dwelmorquin"],
        "HTML-only (quoted-printable) with tables; words only in <style>, <script> and an href "
        "attribute must not be found; the Chinese marker is written as numeric character "
        "references; 'mailer' is only in the envelope sender")


def case12():
    html = text("""
        <html>
        <head>
        <meta http-equiv="Content-Type" content="text/html; charset=gb2312">
        <title>财富周刊</title>
        <style>
        p { line-height: 1.6; }
        /* 样式注释 */
        </style>
        <script>
        var tip = "蜂鸟雪橇";
        </script>
        </head>
        <body>
        <h2>财富周刊 第四十五期</h2>
        <table border="1">
        <tr>
        <td>产品名称</td>
        <td>七日年化</td>
        </tr>
        <tr>
        <td>现金宝A</td>
        <td>1.85%</td>
        </tr>
        </table>
        <p>本期话题：理财产品打破刚性兑付后，如何向客户解释净值波动？</p>
        <p>温馨提示：理财非存款，产品有风险，投资须谨慎。</p>
        <p>本期抽奖礼品：蝴蝶铁锹。订阅编号 dwelmorquin</p>
        </body>
        </html>
        """)
    data = entity([
        ("From", ew("财富周刊", "GB2312") + " <weekly@wealth-weekly.example.cn>"),
        ("To", "rm-east@sales.example.com"),
        ("Subject", ew("财富周刊第四十五期", "GB2312")),
        ("Date", DATE % "06:30:00"),
        ("Message-ID", "<ww-045@wealth-weekly.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/html; charset=gb2312"),
        ("Content-Transfer-Encoding", "base64"),
    ], b64(enc(html, "gb2312")))
    add("12-html-only-gb2312.eml", data, "weekly@wealth-weekly.example.cn",
        ["rm-east@sales.example.com"],
        ["dwelmorquin", "蝴蝶铁锹"],
        ["dwelmorquin", "蝴蝶铁锹", "刚性兑付", '"理财非存款"', "subject:财富周刊", "投资须谨慎"],
        ["蜂鸟雪橇", "样式注释", "存款理财", "fraxinodel"],
        "HTML-only in GB2312 (base64) with a <meta> charset; Chinese words only in <script> "
        "and in a CSS comment inside <style> must not be found")


def case13():
    plain = text("""
        Hi both,

        Following our call, here are the revised fee terms for the custody mandate:

          Custody fee:       3.5 bps p.a. on assets under custody
          Transaction fee:   USD 12 per settlement
          Reporting:         daily, via SWIFT MT535

        Please confirm by Friday so that we can prepare the amended agreement
        (internal ref yorptangle).

        Best regards,
        Sarah O'Neil | Relationship Manager | Meridian Custody Services
        T +852 5550 0199
        """)
    html = text("""
        <html xmlns:o="urn:schemas-microsoft-com:office:office">
        <head>
        <meta http-equiv="Content-Type" content="text/html; charset=us-ascii">
        <style><!--
        p.MsoNormal { margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif; }
        --></style>
        </head>
        <body lang="EN-US">
        <div class="WordSection1">
        <p class="MsoNormal">Hi both,</p>
        <p class="MsoNormal">Following our call, here are the revised fee terms for the custody mandate:</p>
        <ul>
        <li>Custody fee: 3.5 bps p.a. on assets under custody</li>
        <li>Transaction fee: USD 12 per settlement</li>
        <li>Reporting: daily, via SWIFT MT535</li>
        </ul>
        <p class="MsoNormal">Please confirm by Friday so that we can prepare the amended agreement
        (internal ref yorptangle).</p>
        <p class="MsoNormal">Best regards,<br>
        Sarah O'Neil | Relationship Manager | Meridian Custody Services</p>
        <p class="MsoNormal"><img width="120" height="40" src="cid:image001.png@01DB2C3A.5F1E2B40"></p>
        </div>
        </body>
        </html>
        """)
    alt = multipart("_000_MN2PR11MB4321ABCDEF_", [
        entity([("Content-Type", 'text/plain; charset="us-ascii"'),
                ("Content-Transfer-Encoding", "quoted-printable")], qp(plain, "ascii")),
        entity([("Content-Type", 'text/html; charset="us-ascii"'),
                ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "ascii")),
    ])
    related = multipart("_004_MN2PR11MB4321ABCDEF_", [
        entity([("Content-Type", 'multipart/alternative;\r\n\tboundary="_000_MN2PR11MB4321ABCDEF_"')], alt),
        entity([("Content-Type", 'image/png; name="image001.png"'),
                ("Content-Description", "image001.png"),
                ("Content-Disposition", 'inline; filename="image001.png"; size=615;\r\n'
                 '\tcreation-date="Mon, 02 Nov 2026 02:10:00 GMT"'),
                ("Content-ID", "<image001.png@01DB2C3A.5F1E2B40>"),
                ("Content-Transfer-Encoding", "base64")], b64(fake_png(13))),
    ])
    data = entity([
        ("From", '"O\'Neil, Sarah" <sarah.oneil@meridian-custody.example.com>'),
        ("To", '"Chen, Li" <li.chen@sales.example.com>'),
        ("CC", '"Wu, Fang" <wu.fang@research.example.com>'),
        ("Subject", "Revised custody fee terms"),
        ("Thread-Topic", "Revised custody fee terms"),
        ("Thread-Index", "AdtNLbKx1Gq5Vw3cQ0ST7u9Yx0Wf2A=="),
        ("Date", "Mon, 2 Nov 2026 02:10:00 +0000"),
        ("Message-ID", "<MN2PR11MB4321ABCDEF0123456789@MN2PR11MB4321.namprd11.prod.example.com>"),
        ("Accept-Language", "en-US"),
        ("Content-Language", "en-US"),
        ("X-MS-Has-Attach", "yes"),
        ("X-MS-TNEF-Correlator", ""),
        ("Content-Type", 'multipart/related;\r\n\tboundary="_004_MN2PR11MB4321ABCDEF_";\r\n'
         '\ttype="multipart/alternative"'),
        ("MIME-Version", "1.0"),
    ], related)
    add("13-outlook-alternative-related.eml", data, "sarah.oneil@meridian-custody.example.com",
        ["li.chen@sales.example.com", "wu.fang@research.example.com"],
        ["yorptangle"],
        ["yorptangle", "attachment:image001", '"custody mandate"', "from:o'neil", "to:research",
         "to:sales", "message-id:MN2PR11MB4321ABCDEF0123456789", '"SWIFT MT535"'],
        ["subject:yorptangle", "01DB2C3A", '"terms fee"', "glemptoriax"],
        "Outlook shape: multipart/related(multipart/alternative(plain, html), inline image "
        "with Content-ID); signature; recipients in both departments; the image's Content-ID "
        "is not text")


def case14():
    plain = text("""
        Dear Mr Zhou,

        Please find enclosed your quarterly portfolio review and the position list.
        The portfolio returned 2.1% in the quarter against 1.7% for the benchmark.
        Review reference: nubbletorquin

        Kind regards,
        Evergrove Advisers
        """)
    html = text("""
        <html><body>
        <p>Dear Mr Zhou,</p>
        <p>Please find enclosed your quarterly portfolio review and the position list.</p>
        <p>The portfolio returned 2.1% in the quarter against 1.7% for the benchmark.</p>
        <p>Review reference: nubbletorquin</p>
        <p><img src="cid:logo@evergrove"></p>
        <p>Kind regards,<br>Evergrove Advisers</p>
        </body></html>
        """)
    csv = text("""
        account,isin,name,quantity,market_value_cny
        PR-0091,CNE100000296,Ping An Insurance,5000,212500.00
        PR-0091,US0378331005,Apple Inc,300,398102.40
        PR-0091,XS2290871234,huskavernel note 2029,1,1000000.00
        """)
    pdf = fake_pdf(14, "Quarterly Portfolio Review zintrapdfword")
    pdf_b64 = b64(pdf)
    alt = multipart("alt-4c1d", [
        entity([("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "7bit")], enc(plain, "ascii")),
        entity([("Content-Type", "text/html; charset=utf-8"),
                ("Content-Transfer-Encoding", "7bit")], enc(html, "ascii")),
    ])
    related = multipart("rel-3b2a", [
        entity([("Content-Type", 'multipart/alternative; boundary="alt-4c1d"')], alt),
        entity([("Content-Type", "image/png"), ("Content-ID", "<logo@evergrove>"),
                ("Content-Transfer-Encoding", "base64")], b64(fake_png(141))),
    ])
    inner_mixed = multipart("mix-2f19", [
        entity([("Content-Type", 'multipart/related; boundary="rel-3b2a"; type="multipart/alternative"')],
               related),
        entity([("Content-Type", 'text/csv; charset=us-ascii; name="positions.csv"'),
                ("Content-Disposition", 'attachment; filename="positions.csv"'),
                ("Content-Transfer-Encoding", "7bit")], enc(csv, "ascii")),
    ])
    outer = multipart("mix-1e08", [
        entity([("Content-Type", 'multipart/mixed; boundary="mix-2f19"')], inner_mixed),
        entity([("Content-Type", 'application/pdf; name="Portfolio_Review_Q3.pdf"'),
                ("Content-Disposition", 'attachment; filename="Portfolio_Review_Q3.pdf"'),
                ("Content-Transfer-Encoding", "base64")], pdf_b64),
    ], preamble=b"This is a multi-part message in MIME format.\r\n")
    data = entity([
        ("From", '"Evergrove Advisers" <reviews@evergrove.example.net>'),
        ("To", '"Zhou Wei" <zhou.wei@example.org>'),
        ("Cc", "pb-team@sales.example.com"),
        ("Subject", "Your quarterly portfolio review (Q3 2026)"),
        ("Date", DATE % "17:45:00"),
        ("Message-ID", "<review-q3-0091@evergrove.example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="mix-1e08"'),
    ], outer)
    add("14-nested-four-levels.eml", data, "reviews@evergrove.example.net",
        ["zhou.wei@example.org", "pb-team@sales.example.com"],
        ["nubbletorquin", "huskavernel"],
        ["nubbletorquin", "huskavernel", "body:huskavernel", "attachment:positions.csv",
         "attachment:portfolio_review_q3", '"Ping An Insurance"', "US0378331005",
         '"quarterly portfolio review"'],
        [base64_debris_token(pdf_b64), "zintrapdfword", "attachment:huskavernel",
         "subject:huskavernel", "yorptangle"],
        "four multipart levels: mixed(mixed(related(alternative(plain, html), image), csv), "
        "pdf); a text/csv attachment's text is in body; neither the PDF's raw base64 nor the "
        "words inside the decoded PDF are indexed")


# ---------------------------------------------------------------------------------------------
# 15-20: attachments (RFC 2231, RFC 2047 names, text attachments)

def case15():
    body = text("""
        李总：

        附件是我所研究部的2026年第四季度策略报告，请查收。
        核心观点：超配高股息板块，低配地产链。
        报告编号 wumbertlax。

        如需路演，请与我联系。熊猫算盘系列数据见附录。
        """)
    fname = "2026年第四季度策略报告.pdf"
    parts = multipart("----=_NextPart_000_0015_01DB2D11", [
        entity([("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "8bit")], enc(body, "utf-8")),
        entity([("Content-Type", "application/pdf; name*=" + rfc2231(fname)),
                ("Content-Disposition", "attachment; filename*=" + rfc2231(fname)),
                ("Content-Transfer-Encoding", "base64")], b64(fake_pdf(15, "Strategy Q4"))),
    ])
    data = entity([
        ("From", ew("券商研究所", "UTF-8") + " <research@eastsec.example.cn>"),
        ("To", "li.zong@research.example.com"),
        ("Subject", ew("第四季度策略报告", "UTF-8")),
        ("Date", DATE % "18:00:00"),
        ("Message-ID", "<strategy-q4-2026@eastsec.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="----=_NextPart_000_0015_01DB2D11"'),
    ], parts)
    add("15-rfc2231-utf8-filename.eml", data, "research@eastsec.example.cn",
        ["li.zong@research.example.com"],
        ["wumbertlax", "熊猫算盘"],
        ["wumbertlax", "attachment:策略报告", '"熊猫算盘"', "attachment:pdf",
         'attachment:"2026年第四季度策略报告"', "高股息", '"超配高股息板块"'],
        ["attachment:熊猫算盘", "subject:熊猫算盘", "股息高配", "nubbletorquin"],
        "RFC 2231 UTF-8 percent-encoded Chinese file name (filename*= and name*=); "
        "'2026年...' is a word followed by bigrams")


def case16():
    body = text("""
        各位：
        附件为今日理财产品净值表，请查收。
        注意：向客户展示时须同时提示“过往业绩不代表未来表现”。
        表格密码另行发送。编号 clornathep
        本周值班：刺猬灯笼小组
        """)
    fname = "理财产品净值表.xlsx"
    xlsx = fake_binary(16, b"PK\x03\x04\x14\x00\x06\x00", 900)
    parts = multipart("=_gb_16_boundary", [
        entity([("Content-Type", "text/plain; charset=gb2312"),
                ("Content-Transfer-Encoding", "quoted-printable")], qp(body, "gb2312")),
        entity([("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                ("Content-Disposition", "attachment;\r\n filename*=" + rfc2231(fname, "GB2312", "gb2312")),
                ("Content-Transfer-Encoding", "base64")], b64(xlsx)),
    ])
    data = entity([
        ("From", "nav-report@fund-ops.example.cn"),
        ("To", "rm-all@sales.example.com"),
        ("Subject", ew("今日净值", "GB2312")),
        ("Date", DATE % "19:30:00"),
        ("Message-ID", "<nav-20261102@fund-ops.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="=_gb_16_boundary"'),
    ], parts)
    add("16-rfc2231-gb2312-filename.eml", data, "nav-report@fund-ops.example.cn",
        ["rm-all@sales.example.com"],
        ["clornathep", "刺猬灯笼"],
        ["attachment:净值表", "attachment:理财产品净值表", "clornathep", "刺猬灯笼",
         '"过往业绩不代表未来表现"', "attachment:xlsx"],
        ["subject:净值表", "表现未来", "wumbertlax"],
        "RFC 2231 file name in GB2312 (filename*=GB2312''%C0%ED...) on a folded "
        "Content-Disposition; GB2312 body in quoted-printable")


def case17():
    body = text("""
        Hello onboarding team,

        Please find attached the signed risk disclosure statement and its Chinese
        version for client account 7781-22 (onboarding ticket pendrukavol).

        Thanks,
        Branch Operations
        """)
    cn = "客户风险揭示书.pdf"
    q = urllib.parse.quote(cn[:-4].encode("utf-8"), safe="")
    # split the percent-encoding at character boundaries (every 9 characters = 3 bytes)
    pieces = [q[i:i + 18] for i in range(0, len(q), 18)]
    cont = ";\r\n ".join(
        ("filename*%d*=%s%s" % (i, "UTF-8''" if i == 0 else "", p)) for i, p in enumerate(pieces))
    cont += ';\r\n filename*%d=".pdf"' % len(pieces)
    parts = multipart("b17_cont", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(body, "ascii")),
        entity([("Content-Type", "application/pdf"),
                ("Content-Disposition", 'attachment;\r\n filename*0="Risk_Disclosure_gastro";\r\n'
                 ' filename*1="bliv.pdf"'),
                ("Content-Transfer-Encoding", "base64")], b64(fake_pdf(17, "Risk Disclosure"))),
        entity([("Content-Type", "application/pdf"),
                ("Content-Disposition", "attachment;\r\n " + cont),
                ("Content-Transfer-Encoding", "base64")], b64(fake_pdf(171, "Risk Disclosure CN"))),
    ])
    data = entity([
        ("From", '"Branch Operations" <branch-ops@westgate-bank.example.com>'),
        ("To", "onboarding@research.example.com"),
        ("Subject", "Signed risk disclosure, account 7781-22"),
        ("Date", DATE % "10:10:10"),
        ("Message-ID", "<rd-7781-22@westgate-bank.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="b17_cont"'),
    ], parts)
    add("17-rfc2231-continuations.eml", data, "branch-ops@westgate-bank.example.com",
        ["onboarding@research.example.com", "compliance-archive@sales.example.com"],
        ["pendrukavol", "gastrobliv"],
        ["attachment:gastrobliv", "attachment:客户风险揭示书", 'attachment:"risk disclosure"',
         "pendrukavol", "gastrobliv", "to:compliance-archive"],
        ["body:gastrobliv", "attachment:gastro", "attachment:pendrukavol", "from:compliance",
         "clornathep"],
        "RFC 2231 continuations: ASCII filename*0/filename*1 splitting the word 'gastrobliv', "
        "and a UTF-8 percent-encoded Chinese name in filename*0*..*3; the sales address is "
        "only an envelope (Bcc) recipient")


def case18():
    body = text("""
        刘先生您好：

        根据您的风险测评结果（C3平衡型），为您定制了投资建议书，详见附件。
        建议配置：债券基金40%，混合基金35%，货币基金25%。
        理财经理：赵敏  工号 ruxmellard
        随信附赠袋鼠棉袄优惠券。
        """)
    name = ew("投资建议书.doc", "GB2312")
    doc = fake_binary(18, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 1200)
    parts = multipart("----=_NextPart_5F3A_18", [
        entity([("Content-Type", 'text/plain;\r\n\tcharset="gb2312"'),
                ("Content-Transfer-Encoding", "base64")], b64(enc(body, "gb2312"))),
        entity([("Content-Type", 'application/msword;\r\n\tname="' + name + '"'),
                ("Content-Transfer-Encoding", "base64"),
                ("Content-Disposition", 'attachment;\r\n\tfilename="' + name + '"')], b64(doc)),
    ], preamble=b"This is a multi-part message in MIME format.\r\n\r\n")
    data = entity([
        ("From", '"' + ew("赵敏", "GB2312") + '" <zhaomin@fortune-wealth.example.cn>'),
        ("To", '"liu.client" <liu.client@example.net>'),
        ("Subject", ew("您的专属投资建议书", "GB2312")),
        ("Date", DATE % "15:55:00"),
        ("Message-ID", "<201F3A5D.18@fortune-wealth.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed;\r\n\tboundary="----=_NextPart_5F3A_18"'),
        ("X-Mailer", "Foxmail 7.2.25.375[cn]"),
    ], parts)
    add("18-rfc2047-attachment-name.eml", data, "zhaomin@fortune-wealth.example.cn",
        ["liu.client@example.net", "archive@sales.example.com"],
        ["ruxmellard", "袋鼠棉袄"],
        ["attachment:投资建议书", "ruxmellard", "袋鼠棉袄", '"C3平衡型"', "attachment:doc",
         "from:赵敏", "to:archive"],
        ["attachment:赵敏", "subject:袋鼠棉袄", "债券货币", "pendrukavol"],
        "Foxmail shape: RFC 2047 encoded words inside quoted name= and filename= parameters "
        "(not standard, ubiquitous), and inside a quoted display name; the sales address is "
        "only an envelope (Bcc) recipient")


def case19():
    body = text("""
        Hi,

        Attached are my notes from today's call with Mr Okafor and the current fee
        schedule. Desk reference trombelusk.

        Regards,
        James
        """)
    notes = text("""
        Call notes 02 Nov 2026 - Okafor family office
        - Client wants exposure to emerging market debt
        - Risk tolerance: moderate
        - Follow up: send fact sheet, ref vexillomarn
        """)
    fees = text("""
        tier,min_aum,fee_bps
        standard,0,85
        premier,5000000,60
        private,20000000,45
        promo,zarpheliox,0
        """)
    parts = multipart("b19", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(body, "ascii")),
        entity([("Content-Type", 'text/plain; charset=utf-8; name="call-notes.txt"'),
                ("Content-Disposition", 'attachment; filename="call-notes.txt"'),
                ("Content-Transfer-Encoding", "quoted-printable")], qp(notes, "utf-8")),
        entity([("Content-Type", 'text/csv; name="fees.csv"'),
                ("Content-Disposition", 'attachment; filename="fees.csv"'),
                ("Content-Transfer-Encoding", "base64")], b64(enc(fees, "ascii"))),
    ])
    data = entity([
        ("From", "james.whitaker@okafor-fo.example.net"),
        ("To", "coverage@sales.example.com"),
        ("Subject", "Call notes - Okafor"),
        ("Date", DATE % "17:02:00"),
        ("Message-ID", "<notes-okafor-1102@okafor-fo.example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/mixed; boundary=b19"),
    ], parts)
    add("19-text-attachments.eml", data, "james.whitaker@okafor-fo.example.net",
        ["coverage@sales.example.com"],
        ["trombelusk", "vexillomarn", "zarpheliox"],
        ["vexillomarn", "zarpheliox", "attachment:call-notes.txt", '"emerging market debt"',
         "body:zarpheliox", "attachment:fees", "trombelusk"],
        ["attachment:vexillomarn", "subject:tolerance", '"debt market emerging"', "ruxmellard"],
        "text/plain (quoted-printable) and text/csv (base64) attachments: their text is in "
        "body, their names in attachment; unquoted boundary parameter")


def case20():
    body = text("""
        研究部：

        附件为本月高净值客户名单（GBK编码CSV），仅供内部分析，请勿外传。
        """)
    csv = text("""
        客户编号,姓名,风险等级,产品
        C1001,周喆,C2,现金宝A
        C1002,吴镕,C4,河马邮票专享
        C1003,孙悦,C3,plinkerwhast
        """)
    fname = "客户名单.csv"
    parts = multipart("=-b20-=", [
        entity([("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "base64")], b64(enc(body, "utf-8"))),
        entity([("Content-Type", "text/csv; charset=GBK"),
                ("Content-Disposition", "attachment; filename*=" + rfc2231(fname)),
                ("Content-Transfer-Encoding", "base64")], b64(enc(csv, "gbk"))),
    ])
    data = entity([
        ("From", "crm-export@wealth-ops.example.cn"),
        ("To", "hnw-analytics@research.example.com"),
        ("Subject", ew("本月高净值客户名单", "UTF-8")),
        ("Date", DATE % "20:20:20"),
        ("Message-ID", "<crm-export-202611@wealth-ops.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="=-b20-="'),
    ], parts)
    add("20-gbk-csv-attachment.eml", data, "crm-export@wealth-ops.example.cn",
        ["hnw-analytics@research.example.com"],
        ["plinkerwhast", "河马邮票"],
        ["河马邮票", "plinkerwhast", "周喆", "attachment:客户名单", "body:风险等级", "吴镕"],
        ["attachment:河马邮票", "subject:周喆", "邮票河马", "trombelusk"],
        "text/csv attachment in GBK (base64) with characters outside GB2312; RFC 2231 UTF-8 "
        "Chinese file name")


# ---------------------------------------------------------------------------------------------
# 21-22: forwarded messages

def case21():
    outer_text = text("""
        FYI - see the client's original email below. Looks like possible mis-selling;
        please review and advise (review ref omblertask).

        Daniel
        """)
    inner_body = text("""
        To whom it may concern,

        Your adviser told me the Evergreen bond was as safe as a savings account and
        that I could not lose money. I now learn it is subordinated debt. I want my
        money back. My account code is fenwickador.

        Margaret Holloway
        """)
    inner = entity([
        ("From", '"Margaret Holloway" <m.holloway@example.net>'),
        ("To", '"Advisor Desk" <advisors@partner-bank.example.com>'),
        ("Cc", "family.office@example.org"),
        ("Subject", "Complaint about the Evergreen Capital bond sale"),
        ("Date", "Sun, 01 Nov 2026 19:22:05 +0000"),
        ("Message-ID", "<holloway-complaint-0419@example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=us-ascii"),
    ], enc(inner_body, "ascii"))
    parts = multipart("fwd-21-outer", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(outer_text, "ascii")),
        entity([("Content-Type", "message/rfc822"),
                ("Content-Disposition", "inline")], inner),
    ])
    data = entity([
        ("From", '"Daniel Park" <daniel.park@partner-bank.example.com>'),
        ("To", "complaints@sales.example.com"),
        ("Subject", "FW: complaint for review (case 2026-114)"),
        ("Date", DATE % "09:05:00"),
        ("Message-ID", "<fw-2026-114@partner-bank.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="fwd-21-outer"'),
    ], parts)
    add("21-forwarded-rfc822.eml", data, "daniel.park@partner-bank.example.com",
        ["complaints@sales.example.com"],
        ["omblertask", "fenwickador"],
        ["fenwickador", "body:fenwickador", "body:evergreen", "body:holloway",
         'body:"subordinated debt"', "omblertask", "body:family.office",
         'body:"Evergreen Capital bond sale"'],
        ["subject:evergreen", "from:holloway", "to:family", '"savings account safe"',
         "message-id:holloway", "ruxmellard"],
        "forwarded message/rfc822: its From, To, Cc, Subject and body are in body only, not "
        "in the outer from/to/subject/message-id")


def case22():
    level2_body = text("""
        你们好：

        当初销售人员说这款理财产品保本保收益，现在却亏损了一万二千元。
        请给我一个说法。客户编号 quabbelmint
        另：我家的犀牛纽扣收藏不卖。

        孙女士
        """)
    level2 = entity([
        ("From", ew("孙女士", "GBK") + " <sun.ms@mailbox.example.cn>"),
        ("To", "service@branch-7.example.cn"),
        ("Subject", ew("关于理财产品亏损的质疑", "GBK")),
        ("Date", "Fri, 30 Oct 2026 22:10:00 +0800"),
        ("Message-ID", "<sun-20261030@mailbox.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=gb2312"),
        ("Content-Transfer-Encoding", "base64"),
    ], b64(enc(level2_body, "gb2312")))
    level1_text = text("""
        分行意见：客户情绪激动，建议总行合规部介入。原邮件见附件。
        """)
    level1 = entity([
        ("From", ew("第七分行", "GB2312") + " <manager@branch-7.example.cn>"),
        ("To", "compliance@hq-bank.example.cn"),
        ("Subject", ew("转发：客户质疑理财收益", "GB2312")),
        ("Date", "Sat, 31 Oct 2026 09:00:00 +0800"),
        ("Message-ID", "<b7-fwd-20261031@branch-7.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="lvl1-b"'),
    ], multipart("lvl1-b", [
        entity([("Content-Type", "text/plain; charset=gb2312"),
                ("Content-Transfer-Encoding", "8bit")], enc(level1_text, "gb2312")),
        entity([("Content-Type", "message/rfc822")], level2),
    ]))
    outer_text = text("""
        转发两层原始邮件，请合规同事审阅。审阅编号 drubbelquist。
        """)
    data = entity([
        ("From", "hq-compliance@hq-bank.example.cn"),
        ("To", "compliance@research.example.com"),
        ("Subject", ew("合规审阅请求 CR-2026-0087", "UTF-8")),
        ("Date", DATE % "10:30:00"),
        ("Message-ID", "<cr-2026-0087@hq-bank.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="outer-22"'),
    ], multipart("outer-22", [
        entity([("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "8bit")], enc(outer_text, "utf-8")),
        entity([("Content-Type", "message/rfc822")], level1),
    ]))
    add("22-forwarded-nested-gb2312.eml", data, "hq-compliance@hq-bank.example.cn",
        ["compliance@research.example.com"],
        ["drubbelquist", "quabbelmint", "犀牛纽扣"],
        ["犀牛纽扣", "quabbelmint", "body:质疑理财收益", "body:理财产品亏损", "drubbelquist",
         "保本保收益", "body:孙女士", "body:合规部"],
        ["subject:犀牛纽扣", "subject:亏损", "from:孙女士", "to:branch", "omblertask"],
        "a forward of a forward: message/rfc822 inside message/rfc822, innermost body GB2312 "
        "in base64, RFC 2047 GB2312/GBK subjects of both forwarded messages (body only)")


# ---------------------------------------------------------------------------------------------
# 23-28: Japanese, Latin-1, Korean, reply chains

def case23():
    body = text("""
        リサーチ部 御中

        いつもお世話になっております。
        来週の投資セミナーの資料をお送りします。
        テーマは「高配当株と債券の組み合わせ」です。
        参加者への記念品は河童煎餅です。
        資料番号 wobbernautic

        よろしくお願いいたします。
        山田 太郎
        """)
    data = entity([
        ("From", ew("山田 太郎", "ISO-2022-JP", "iso2022_jp") + " <t.yamada@sakura-sec.example.jp>"),
        ("To", "japan-desk@research.example.com"),
        ("Subject", ew("投資セミナー資料のご送付", "ISO-2022-JP", "iso2022_jp")),
        ("Date", "Mon, 02 Nov 2026 10:00:00 +0900"),
        ("Message-ID", "<20261102100000.A1B2@sakura-sec.example.jp>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=ISO-2022-JP"),
        ("Content-Transfer-Encoding", "7bit"),
    ], b"".join(crlf_bytes(line.encode("iso2022_jp")) for line in body.splitlines(True)))
    add("23-iso2022jp.eml", data, "t.yamada@sakura-sec.example.jp",
        ["japan-desk@research.example.com"],
        ["wobbernautic", "河童煎餅"],
        ["wobbernautic", "河童煎餅", "高配当株", "subject:投資", "from:山田",
         '"高配当株と債券の組み合わせ"'],
        ["subject:河童煎餅", "債券高配当", "snorvadlik"],
        "ISO-2022-JP (7-bit, escape sequences) body and RFC 2047 ISO-2022-JP subject and "
        "display name; kana and kanji in one run give bigrams")


def case24():
    body = text("""
        Madame, Monsieur,

        Nous vous informons que l'échéance de votre contrat d'assurance-vie
        n° AV-447120 est fixée au 15 décembre 2026. Le capital garanti s'élève
        à 48 500,00 EUR. Référence dossier : marquelitonde.

        Veuillez agréer nos salutations distinguées.
        Mutuelle Rhodanienne d'Assurances
        """)
    data = entity([
        ("From", '"Mutuelle Rhodanienne" <contrats@mutuelle-rhodanienne.example.fr>'),
        ("To", "europe-desk@sales.example.com"),
        ("Subject", ew("Échéance de votre contrat AV-447120", "ISO-8859-1", "latin-1", mode="Q")),
        ("Date", "Mon, 02 Nov 2026 09:00:00 +0100"),
        ("Message-ID", "<AV-447120.20261102@mutuelle-rhodanienne.example.fr>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=ISO-8859-1"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(body, "latin-1"))
    add("24-latin1-french.eml", data, "contrats@mutuelle-rhodanienne.example.fr",
        ["europe-desk@sales.example.com"],
        ["marquelitonde"],
        ["marquelitonde", "ÉCHÉANCE", "e\u0301che\u0301ance", "subject:échéance",
         '"capital garanti"', "assurance", "Mutuelle"],
        ["echeance", "subject:capital", '"garanti capital"', "wobbernautic"],
        "ISO-8859-1 quoted-printable French; RFC 2047 ISO-8859-1 Q subject; upper-case and "
        "decomposed (NFKC) queries; accents are not stripped ('echeance' must not match)")


def case25():
    body = text("""
        Sehr geehrte Frau Müller,

        Ihre Überweisung über 12.500,00 EUR an die Grundstücksgesellschaft
        Königsallee mbH wurde heute ausgeführt. Empfängeradresse:
        Hauptstraße 17, 40212 Düsseldorf. Auftragskennung: schwindelfrax.

        Mit freundlichen Grüßen
        Ihre Privatbank Rheinufer AG
        """)
    data = entity([
        ("From", '"Privatbank Rheinufer" <service@rheinufer-bank.example.de>'),
        ("To", "dach-research@research.example.com"),
        ("Subject", ew("Überweisung bestätigt", "iso-8859-1", "latin-1", mode="Q")),
        ("Date", "Mon, 02 Nov 2026 11:00:00 +0100"),
        ("Message-ID", "<ueb-20261102-4471@rheinufer-bank.example.de>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=iso-8859-1"),
        ("Content-Transfer-Encoding", "8bit"),
    ], enc(body, "latin-1"))
    add("25-latin1-german-8bit.eml", data, "service@rheinufer-bank.example.de",
        ["dach-research@research.example.com"],
        ["schwindelfrax"],
        ["schwindelfrax", "HAUPTSTRASSE", "GRÜSSEN", "subject:überweisung",
         '"Königsallee mbH"', "müller"],
        ["subject:schwindelfrax", "strasse", "ueberweisung", "marquelitonde"],
        "ISO-8859-1 8-bit German; case folding ß -> ss ('HAUPTSTRASSE' finds Hauptstraße); "
        "whole words only ('strasse' must not match)")


def case26():
    body = text("""
        리서치팀 담당자님께,

        다음 주 화요일에 열리는 채권 시장 설명회 자료를 보내드립니다.
        원금 보장 상품이 아니므로 고객 안내 시 주의하시기 바랍니다.
        기념품은 고래찻잔입니다.
        문서 번호: hobbleworth

        감사합니다.
        """)
    data = entity([
        ("From", ew("김지수", "UTF-8") + " <jisoo.kim@hanbit-am.example.kr>"),
        ("To", "korea-desk@sales.example.com"),
        ("Subject", ew("채권 시장 설명회 자료", "UTF-8")),
        ("Date", "Mon, 02 Nov 2026 10:30:00 +0900"),
        ("Message-ID", "<seminar-20261102@hanbit-am.example.kr>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "base64"),
    ], b64(enc(body, "utf-8")))
    add("26-korean-utf8.eml", data, "jisoo.kim@hanbit-am.example.kr",
        ["korea-desk@sales.example.com"],
        ["hobbleworth", "고래찻잔"],
        ["hobbleworth", "고래찻잔", '"원금 보장"', "설명회", "subject:채권", "from:김지수"],
        ["보장원금", "subject:고래찻잔", "schwindelfrax"],
        "Korean (Hangul) UTF-8 in base64; Hangul runs give bigrams")


def case27():
    body = text("""
        Hi Tom,

        Confirmed, the redemption will settle on Friday. I have asked operations
        to waive the early exit fee as a goodwill gesture (ticket grimblefosh).

        Kind regards,
        Priya Raman
        Client Relationship Team
        Northgate Asset Management

        -----Original Message-----
        From: Tom Becker <tom.becker@example.net>
        Sent: Monday, November 2, 2026 8:14 AM
        To: Priya Raman <priya.raman@northgate-am.example.com>
        Subject: RE: Redemption request - account 55120

        > Priya, can you confirm when the money will arrive? I was told the
        > fund could be sold at any time without penalty.
        >
        > Tom
        >
        >> On 30 Oct 2026, at 16:02, Priya Raman wrote:
        >> We received your redemption request for 2,400 units of the
        >> Northgate Asia Income Fund. Dealing cut-off is 12:00 noon.
        """)
    data = entity([
        ("From", "Priya Raman <priya.raman@northgate-am.example.com>"),
        ("To", "Tom Becker <tom.becker@example.net>"),
        ("Cc", "dealing@sales.example.com, fund-research@research.example.com"),
        ("Subject", "RE: RE: Redemption request - account 55120"),
        ("Date", "Mon, 2 Nov 2026 03:40:00 +0000"),
        ("Message-ID", "<PR-55120-3@northgate-am.example.com>"),
        ("In-Reply-To", "<TB-55120-2@example.net>"),
        ("References", "<PR-55120-1@northgate-am.example.com> <TB-55120-2@example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8; format=flowed"),
        ("Content-Transfer-Encoding", "7bit"),
    ], enc(body, "ascii"))
    add("27-reply-chain-quoted.eml", data, "priya.raman@northgate-am.example.com",
        ["tom.becker@example.net", "dealing@sales.example.com", "fund-research@research.example.com"],
        ["grimblefosh"],
        ["grimblefosh", '"sold at any time without penalty"', '"I was told the fund could be sold"',
         "subject:redemption", '"Northgate Asia Income Fund"', "to:becker", '"dealing cut-off"'],
        ["subject:grimblefosh", '"penalty without"', "from:becker", "message-id:TB-55120-2",
         "hobbleworth"],
        "reply chain with an Outlook original-message block and '>' / '>>' quoting: phrases "
        "run across quoted line breaks; the quoted sender is not in from; both departments")


def case28():
    body = text("""
        孙丽女士：

        您好！关于您反映的问题，我行高度重视，已安排专人调取销售过程的双录资料。
        我们会在十五个工作日内给您书面答复。处理编号：snickelbrand
        经办人：王堃
        客服中心 乌龟秋千组

        -----原始邮件-----
        发件人：孙丽
        发送时间：2026年11月1日 21:03
        主题：关于产品亏损的说明

        > 你们的理财经理当时说这个产品稳赚不赔，
        > 我才买了三十万。
        """)
    data = entity([
        ("From", ew("客服中心", "GBK") + " <kefu@huaxin-bank.example.cn>"),
        ("To", ew("孙丽", "GBK") + " <sun.li@example.cn>"),
        ("Cc", "complaint-log@sales.example.com"),
        ("Subject", ew("回复：关于产品亏损的说明", "GBK")),
        ("Date", DATE % "15:00:00"),
        ("Message-ID", "<hx-reply-7731@huaxin-bank.example.cn>"),
        ("In-Reply-To", "<sunli-1101@example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=GBK"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(body, "gbk"))
    add("28-gbk-reply-chain.eml", data, "kefu@huaxin-bank.example.cn",
        ["sun.li@example.cn", "complaint-log@sales.example.com"],
        ["snickelbrand", "乌龟秋千"],
        ["snickelbrand", "乌龟秋千", "稳赚不赔", "双录资料", "subject:亏损", '"书面答复"', "王堃",
         "to:孙丽"],
        ["subject:稳赚不赔", "赔不赚稳", "from:孙丽", "fenwickador"],
        "GBK quoted-printable reply with a quoted Chinese original; GBK-only 堃; RFC 2047 GBK "
        "subject and display names")


# ---------------------------------------------------------------------------------------------
# 29-37: malformed MIME (each keeps a marker where any decoder finds it)

def case29():
    p1 = text("""
        Daily position report (automatic), generated 02-Nov-2026 18:00.
        Run id trapsilonia. Positions reconciled: 1,204. Breaks: 3.
        """)
    p2 = text("""
        Breaks detail: see the reconciliation system, queue yonderbluff.
        """)
    body = multipart("----=_Part_12_3456.789", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(p1, "ascii")),
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(p2, "ascii")),
    ], close=False)
    data = entity([
        ("From", "recon-robot@ops-systems.example.com"),
        ("To", "risk-desk@research.example.com"),
        ("Subject", "Daily positions 02-Nov-2026 (auto)"),
        ("Date", DATE % "18:00:05"),
        ("Message-ID", "<recon.20261102.1800@ops-systems.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="----=_Part_12_3456.789"'),
    ], body)
    add("29-malformed-missing-close-boundary.eml", data, "recon-robot@ops-systems.example.com",
        ["risk-desk@research.example.com"],
        ["trapsilonia", "yonderbluff"],
        ["trapsilonia", "yonderbluff", 'body:"daily position report"', "subject:positions"],
        ["subject:trapsilonia", "NOT yonderbluff", "hobbleworth"],
        "malformed: multipart without its closing delimiter (the last part runs to the end)")


def case30():
    body = (b"--frontier\r\n"
            b"Content-Type: text/plain\r\n"
            b"\r\n"
            b"Statement batch attached below. Batch note grottelwisp.\r\n"
            b"--frontier--\r\n")
    data = entity([
        ("From", "batch@statements.example.net"),
        ("To", "statements@sales.example.com"),
        ("Subject", "Statement batch blimsterquad (auto-generated)"),
        ("Date", DATE % "02:00:00"),
        ("Message-ID", "<batch-0030@statements.example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/mixed"),
    ], body)
    add("30-malformed-no-boundary-param.eml", data, "batch@statements.example.net",
        ["statements@sales.example.com"],
        ["blimsterquad"],
        ["blimsterquad", "subject:blimsterquad", "subject:statement",
         "BLIMSTERQUAD OR nosuchwordanywhere"],
        ["body:blimsterquad", "trapsilonia"],
        "malformed: multipart/mixed without a boundary parameter; the marker is in the "
        "Subject; the body text is only findable if the parser salvages it",
        find_best_effort=["grottelwisp"])


def case31():
    good = text("""
        Please find the client instruction below (second part, base64).
        Instruction batch frumplequist.
        """)
    inner = text("""
        Client instruction: switch 40% of the holding from the money market fund to
        the short-duration bond fund. Instruction id skorbatelle.
        客户另附言：请寄送蚂蚁吊桥纪念册。
        """)
    enc64 = b64(enc(inner, "utf-8"))
    # damage: characters outside the base64 alphabet inserted at several places (decoders
    # skip them); the 4-character groups themselves are intact
    lines = enc64.split(b"\r\n")
    lines[0] = lines[0][:20] + b"!*" + lines[0][20:]
    lines[1] = lines[1][:44] + b"~#" + lines[1][44:]
    lines[2] = b"%" + lines[2]
    damaged = b"\r\n".join(lines)
    body = multipart("b31", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(good, "ascii")),
        entity([("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "base64")], damaged),
    ])
    data = entity([
        ("From", "instructions@custody-gw.example.net"),
        ("To", "fund-ops@research.example.com"),
        ("Subject", "Client instruction batch 31"),
        ("Date", DATE % "12:31:00"),
        ("Message-ID", "<instr-31@custody-gw.example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/mixed; boundary=b31"),
    ], body)
    add("31-malformed-bad-base64.eml", data, "instructions@custody-gw.example.net",
        ["fund-ops@research.example.com"],
        ["frumplequist", "skorbatelle", "蚂蚁吊桥"],
        ["frumplequist", "skorbatelle", "蚂蚁吊桥", '"short-duration bond fund"',
         "subject:instruction"],
        ["subject:skorbatelle", "blimsterquad"],
        "malformed: base64 text with characters outside the alphabet (!*~#%) between intact "
        "4-character groups; decoders skip them; the first part is clean")


def case32():
    body = text("""
        Fund fact sheet, November 2026 edition.
        Share class A accumulating; ongoing charges 0.85%.
        Fact sheet code quillifrond.
        """)
    data = entity([
        ("From", "factsheets@fundhouse.example.org"),
        ("To", "product-desk@sales.example.com"),
        ("Subject", "Fund fact sheet November 2026"),
        ("Date", DATE % "08:08:08"),
        ("Message-ID", "<fs-2026-11@fundhouse.example.org>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="x-unknown"'),
        ("Content-Transfer-Encoding", "7bit"),
    ], enc(body, "ascii"))
    add("32-malformed-unknown-charset.eml", data, "factsheets@fundhouse.example.org",
        ["product-desk@sales.example.com"],
        ["quillifrond"],
        ["quillifrond", "body:quillifrond", '"ongoing charges"', "subject:fact"],
        ["subject:quillifrond", '"charges ongoing"', "frumplequist"],
        "malformed: unknown charset label x-unknown on ASCII text")


def case33():
    text_part = text("""
        Dear client,

        Your monthly statement for October 2026 is attached.
        Statement reference murgatroil.
        """)
    pdf_b64 = b64(fake_pdf(33, "Statement October"))
    truncated = pdf_b64[:700] + pdf_b64[700:760].split(b"\r\n")[0][:30] + b"\r\n"
    body = multipart("b33-trunc", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(text_part, "ascii")),
        entity([("Content-Type", 'application/pdf; name="statement-2026-10.pdf"'),
                ("Content-Disposition", 'attachment; filename="statement-2026-10.pdf"'),
                ("Content-Transfer-Encoding", "base64")], truncated),
    ], close=False)
    data = entity([
        ("From", "estatements@lakeside-bank.example.com"),
        ("To", "client.copy@research.example.com"),
        ("Subject", "Your monthly statement"),
        ("Date", DATE % "05:00:00"),
        ("Message-ID", "<stmt-2026-10-33@lakeside-bank.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="b33-trunc"'),
    ], body)
    add("33-malformed-truncated.eml", data, "estatements@lakeside-bank.example.com",
        ["client.copy@research.example.com"],
        ["murgatroil"],
        ["murgatroil", "attachment:statement", '"monthly statement"', "body:murgatroil"],
        ["subject:murgatroil", "quillifrond"],
        "malformed: truncated in the middle of a base64 attachment line, no closing delimiter")


def case34():
    body = text("""
        本邮件由系统自动发送，请勿回复。
        您的风险测评将于30天后到期，请及时重新测评。测评礼品：青蛙酱油。
        System notice id tinderwomble.
        """)
    data = entity([
        ("From", "noreply@risk-survey.example.cn"),
        ("To", "rm-north@sales.example.com, quant@research.example.com"),
        ("Subject", "Risk questionnaire expiry notice"),
        ("Date", DATE % "07:07:07"),
        ("Message-ID", "<rq-expiry-34@risk-survey.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ], enc(body, "utf-8"))
    add("34-malformed-duplicate-content-type.eml", data, "noreply@risk-survey.example.cn",
        ["rm-north@sales.example.com", "quant@research.example.com"],
        ["tinderwomble", "青蛙酱油"],
        ["tinderwomble", "青蛙酱油", "风险测评", "subject:questionnaire"],
        ["subject:tinderwomble", "测评风险", "murgatroil"],
        "malformed: two Content-Type headers (text/plain, text/html); the text has no markup, "
        "so either reading gives the same words")


def case35():
    body = text("""
        各位：
        明天上午九点召开投研晨会，议题：新能源板块估值与麋鹿汤圆项目进展。
        Meeting code zumbleshank.
        """)
    data = entity([
        ("From", "morning-meeting@research-partner.example.org"),
        ("To", "all@research.example.com"),
        ("Subject", "Morning meeting agenda"),
        ("Date", DATE % "20:00:00"),
        ("Message-ID", "<mm-agenda-35@research-partner.example.org>"),
    ], enc(body, "utf-8"))
    add("35-malformed-undeclared-utf8.eml", data, "morning-meeting@research-partner.example.org",
        ["all@research.example.com"],
        ["zumbleshank", "麋鹿汤圆"],
        ["zumbleshank", "麋鹿汤圆", "投研晨会", "subject:agenda"],
        ["subject:zumbleshank", "晨会投研", "tinderwomble"],
        "malformed: raw 8-bit UTF-8 body without MIME-Version or Content-Type (undeclared); "
        "UTF-8 is the first guess for undeclared 8-bit text")


def case36():
    body = text("""
        Branch notice wobblefitch
        各网点：本月起暂停销售海螺烟囱系列结构性存款，已售产品正常存续。
        """)
    data = entity([
        ("From", "notice@branch-admin.example.cn"),
        ("To", "network@sales.example.com"),
        ("Subject", "Branch notice: product suspension"),
        ("Date", DATE % "16:16:16"),
        ("Message-ID", "<notice-36@branch-admin.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain"),
        ("Content-Transfer-Encoding", "8bit"),
    ], enc(body, "gb2312"))
    add("36-malformed-undeclared-gb2312.eml", data, "notice@branch-admin.example.cn",
        ["network@sales.example.com"],
        ["wobblefitch", "海螺烟囱"],
        ["wobblefitch", "body:wobblefitch", "subject:suspension"],
        ["subject:wobblefitch", "zumbleshank"],
        "malformed: raw 8-bit GB2312 body, text/plain without charset; the ASCII marker is "
        "certain, the Chinese text needs the charset guess (not UTF-8, so GB18030)",
        find_best_effort=["海螺烟囱", "结构性存款"])


def case37():
    body = text("""
        Counterparty limit update for Q4: the limit for Lanting Trust is reduced to
        CNY 50m with immediate effect. Update code snaffletwig.
        """)
    head = headers([
        ("From", "limits@credit-risk.example.com"),
        ("To", "credit@research.example.com"),
        ("Subject", "Limit update crumplehorn"),
        ("Date", DATE % "11:11:11"),
        ("Message-ID", "<limits-37@credit-risk.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=us-ascii"),
    ]) + b"X-Generated-By limit-engine v2 (no colon in this line)\r\n" + headers([
        ("X-Priority", "1"),
    ])
    data = head + b"\r\n" + enc(body, "ascii")
    add("37-malformed-header-no-colon.eml", data, "limits@credit-risk.example.com",
        ["credit@research.example.com"],
        ["crumplehorn", "snaffletwig"],
        ["crumplehorn", "subject:crumplehorn", "snaffletwig", '"Lanting Trust"'],
        ["subject:snaffletwig", "body:crumplehorn", "murgatroil"],
        "malformed: a header line without a colon among the headers (after Subject, "
        "Content-Type and Message-ID). Postfix (3.7) ends the header block there and inserts "
        "an empty line, so the journal's copy differs from this file and that line and "
        "X-Priority are body text; the queries hold either way")


# ---------------------------------------------------------------------------------------------
# 38-49: PDF and Bcc, HR, insurers, mixed charsets, S/MIME, calendar, 8-bit headers, forwards

def case38():
    body = text("""
        Dear Ms Alvarez,

        Your statement for October 2026 is attached as a PDF. For your security the
        document is protected with your date of birth (DDMMYYYY).
        Statement run plonkettrive.

        Lakeside Private Bank
        """)
    pdf_b64 = b64(fake_pdf(38, "Statement pdfonlyinnerword"))
    parts = multipart("b38", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(body, "ascii")),
        entity([("Content-Type", 'application/pdf; name="Statement_Oct2026.pdf"'),
                ("Content-Disposition", 'attachment; filename="Statement_Oct2026.pdf"'),
                ("Content-Transfer-Encoding", "base64")], pdf_b64),
    ])
    data = entity([
        ("From", "estatements@lakeside-bank.example.com"),
        ("To", "m.alvarez@example.org"),
        ("Subject", "Your October 2026 statement"),
        ("Date", DATE % "05:30:00"),
        ("Message-ID", "<stmt-38-alvarez@lakeside-bank.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/mixed; boundary=b38"),
    ], parts)
    add("38-pdf-statement-bcc.eml", data, "estatements@lakeside-bank.example.com",
        ["m.alvarez@example.org", "archive@sales.example.com"],
        ["plonkettrive"],
        ["plonkettrive", "attachment:oct2026", "to:archive", "to:alvarez", '"date of birth"'],
        [base64_debris_token(pdf_b64), "pdfonlyinnerword", "body:oct2026", "from:archive",
         "crumplehorn"],
        "base64 PDF attachment (binary); raw base64 and the PDF's own words are not indexed; "
        "the sales address is only an envelope (Bcc) recipient")


def case39():
    body = text("""
        Research desk,

        We are downgrading Lanting Property to SELL. The note is embargoed until
        09:00 tomorrow; do not share with clients before then.
        Rating change id sprocketvane.

        Equity Research Committee
        """)
    data = entity([
        ("From", "committee@equity-research.example.net"),
        ("To", "desk@research.example.com"),
        ("Subject", "Rating change: Lanting Property to SELL (embargoed)"),
        ("Date", DATE % "21:00:00"),
        ("Message-ID", "<rating-39@equity-research.example.net>"),
    ], enc(body, "ascii"))
    add("39-bcc-research-and-sales.eml", data, "committee@equity-research.example.net",
        ["desk@research.example.com", "surveillance@sales.example.com"],
        ["sprocketvane"],
        ["sprocketvane", "to:surveillance", '"embargoed until"', "subject:lanting",
         "to:desk AND to:surveillance"],
        ["from:surveillance", "subject:sprocketvane", "plonkettrive"],
        "no MIME headers at all (plain RFC 5322, ASCII); research in the headers, sales only "
        "as an envelope (Bcc) recipient: both departments")


def case40():
    plain = text("""
        各位同事：

        2026年度年终奖将于2027年1月20日随工资发放。
        请于12月31日前在系统中确认考勤记录，逾期视为无异议。
        年会抽奖礼品包括燕子瓷碗等。通知编号 haberdoshy。

        人力资源部
        """)
    html = text("""
        <html>
        <body>
        <p>各位同事：</p>
        <p>2026年度<b>年终奖</b>将于2027年1月20日随工资发放。</p>
        <p>请于12月31日前在系统中确认考勤记录，逾期视为无异议。</p>
        <p>年会抽奖礼品包括燕子瓷碗等。通知编号 haberdoshy。</p>
        <p>人力资源部</p>
        </body>
        </html>
        """)
    body = multipart("hr-alt-40", [
        entity([("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "quoted-printable")], qp(plain, "utf-8")),
        entity([("Content-Type", "text/html; charset=utf-8"),
                ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "utf-8")),
    ])
    data = entity([
        ("From", ew("人力资源部", "UTF-8") + " <hr@group-hr.example.cn>"),
        ("To", "all-staff@research.example.com"),
        ("Subject", ew("关于2026年度年终奖发放的通知", "UTF-8")),
        ("Date", DATE % "17:30:00"),
        ("Message-ID", "<hr-notice-40@group-hr.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/alternative; boundary="hr-alt-40"'),
    ], body)
    add("40-hr-notice-utf8-qp.eml", data, "hr@group-hr.example.cn",
        ["all-staff@research.example.com"],
        ["haberdoshy", "燕子瓷碗"],
        ["年终奖", "燕子瓷碗", "haberdoshy", "subject:年终奖", "考勤记录", "from:人力资源部"],
        ["年终工资", "subject:考勤", "sprocketvane"],
        "HR notice: multipart/alternative, UTF-8 Chinese in quoted-printable in both parts "
        "(multi-byte characters split across soft line breaks by the encoder)")


def case41():
    plain = text("""
        Dear Policyholder,

        Your home insurance policy HP-553-2201 renews on 1 January 2027.
        The renewal premium is GBP 684.20. Your policy schedule is attached.
        Renewal code wendlebrook.

        Albion Mutual Insurance
        """)
    html = text("""
        <html>
        <head>
        <style>
        .hdr { color: #552288; }
        </style>
        </head>
        <body>
        <p class="hdr">Dear Policyholder,</p>
        <p>Your home insurance policy <b>HP-553-2201</b> renews on 1 January 2027.</p>
        <p>The renewal premium is GBP 684.20. Your policy schedule is attached.</p>
        <p>Renewal code wendlebrook.</p>
        <p>Albion Mutual Insurance</p>
        </body>
        </html>
        """)
    alt = multipart("alt41", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(plain, "ascii")),
        entity([("Content-Type", "text/html; charset=us-ascii")], enc(html, "ascii")),
    ])
    body = multipart("mix41", [
        entity([("Content-Type", 'multipart/alternative; boundary="alt41"')], alt),
        entity([("Content-Type", "application/pdf"),
                ("Content-Disposition", "attachment; filename*=us-ascii'en-gb'Policy%20Schedule%202027.pdf"),
                ("Content-Transfer-Encoding", "base64")], b64(fake_pdf(41, "Policy Schedule"))),
    ])
    data = entity([
        ("From", '"Albion Mutual" <renewals@albion-mutual.example.co.uk>'),
        ("To", "uk-clients@sales.example.com"),
        ("Subject", "Your home insurance renewal HP-553-2201"),
        ("Date", "Mon, 02 Nov 2026 08:00:00 +0000"),
        ("Message-ID", "<HP-553-2201.renewal@albion-mutual.example.co.uk>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="mix41"'),
    ], body)
    add("41-insurer-renewal-html-pdf.eml", data, "renewals@albion-mutual.example.co.uk",
        ["uk-clients@sales.example.com"],
        ["wendlebrook"],
        ["wendlebrook", 'attachment:"policy schedule 2027"', '"renewal premium"',
         "subject:hp-553-2201", "message-id:hp-553-2201"],
        ["attachment:renewal", "subject:wendlebrook", "haberdoshy"],
        "insurer renewal: mixed(alternative(plain, html), pdf) with an RFC 2231 us-ascii "
        "name with a language tag and %20")


def case42():
    gb = text("""
        上海分行：本季度保险代销额完成率百分之九十二，重点产品为蜻蜓磨盘年金险。
        """)
    big5 = text("""
        香港分行：本季保險代銷完成率百分之八十五，重點產品為鴛鴦電梯終身壽險。
        """)
    utf8 = text("""
        Summary prepared by the bancassurance desk, code mumblecrust.
        """)
    body = multipart("b42-mixed", [
        entity([("Content-Type", "text/plain; charset=gb2312"),
                ("Content-Transfer-Encoding", "quoted-printable")], qp(gb, "gb2312")),
        entity([("Content-Type", "text/plain; charset=big5"),
                ("Content-Transfer-Encoding", "base64")], b64(enc(big5, "big5"))),
        entity([("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "7bit")], enc(utf8, "ascii")),
    ])
    data = entity([
        ("From", "bancassurance@group-hq.example.com"),
        ("To", "insurance-sales@sales.example.com"),
        ("Cc", "insurance-research@research.example.com"),
        ("Subject", ew("保险代销季度汇总 / 保險代銷季度匯總", "UTF-8")),
        ("Date", DATE % "18:42:00"),
        ("Message-ID", "<banca-q4-42@group-hq.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/mixed; boundary="b42-mixed"'),
    ], body)
    add("42-mixed-charset-parts.eml", data, "bancassurance@group-hq.example.com",
        ["insurance-sales@sales.example.com", "insurance-research@research.example.com"],
        ["mumblecrust", "蜻蜓磨盘", "鴛鴦電梯"],
        ["蜻蜓磨盘", "鴛鴦電梯", "mumblecrust", "subject:保险代销", "subject:保險代銷",
         "保险代销 OR 保險代銷"],
        ["subject:蜻蜓磨盘", "磨盘蜻蜓", "wendlebrook"],
        "three inline text parts in GB2312 (QP), Big5 (base64) and UTF-8; subject with "
        "simplified and traditional text; both departments")


def case43():
    body = text("""
        Compliance memo

        During the call on 28 October the client was told the product carries
        “no risk” – this must be corrected in writing. The upfront fee of €1,250
        was not disclosed either. Memo reference flibbertonk.
        """)
    data = entity([
        ("From", '"Compliance Monitoring" <monitoring@group-compliance.example.com>'),
        ("To", "desk-heads@research.example.com"),
        ("Subject", ew("Call review: undisclosed fee and “no risk” statement", "windows-1252",
                       "cp1252", mode="Q")),
        ("Date", DATE % "12:00:00"),
        ("Message-ID", "<cm-43@group-compliance.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="Windows-1252"'),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(body, "cp1252"))
    add("43-windows-1252-memo.eml", data, "monitoring@group-compliance.example.com",
        ["desk-heads@research.example.com"],
        ["flibbertonk"],
        ["flibbertonk", '"no risk"', 'subject:"no risk"', '"upfront fee"', "body:1,250"],
        ["subject:flibbertonk", '"fee upfront"', "mumblecrust"],
        "Windows-1252 quoted-printable (curly quotes, en dash, euro sign =80) and an RFC 2047 "
        "windows-1252 Q subject")


def case44():
    # declared gb2312 but written by a GBK mailer: 镕 (E9 46) is not GB2312
    body = text("""
        Ticket dringlebot
        客户翡翠拖鞋活动报名已截止。
        经办：朱镕
        """)
    data = entity([
        ("From", "events@north-branch.example.cn"),
        ("To", "events@sales.example.com"),
        ("Subject", "Event registration closed dringlebot"),
        ("Date", DATE % "14:44:44"),
        ("Message-ID", "<evt-44@north-branch.example.cn>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=gb2312"),
        ("Content-Transfer-Encoding", "base64"),
    ], b64(enc(body, "gbk")))
    add("44-gb2312-label-gbk-bytes.eml", data, "events@north-branch.example.cn",
        ["events@sales.example.com"],
        ["dringlebot", "翡翠拖鞋"],
        ["dringlebot", "subject:dringlebot", "subject:registration", "翡翠拖鞋"],
        ["flibbertonk", "subject:翡翠拖鞋"],
        "malformed (and common): charset label gb2312 on GBK bytes (镕 is outside GB2312); "
        "the ASCII marker is certain; 翡翠拖鞋 comes before the bad sequence (GMime 3.2 reads "
        "the whole part, gb2312 as GB18030); 朱镕 needs the decoder to read gb2312 as GBK",
        find_best_effort=["朱镕"])


def case45():
    plain = text("""
        Dear colleagues,

        Attached is the signed model update for the China consumer sector. We lower
        our 2027 earnings estimates by 4% on weaker discretionary spending.
        Model version quonsettile.

        -- 
        Helen Zhao, CFA
        Senior Analyst, Consumer
        """)
    sig = fake_binary(45, b"\x30\x82\x06\x5a\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", 1400)
    body = multipart("----smime-45", [
        entity([("Content-Type", "text/plain; charset=us-ascii"),
                ("Content-Transfer-Encoding", "7bit")], enc(plain, "ascii")),
        entity([("Content-Type", 'application/pkcs7-signature; name="smime.p7s"'),
                ("Content-Transfer-Encoding", "base64"),
                ("Content-Disposition", 'attachment; filename="smime.p7s"'),
                ("Content-Description", "S/MIME Cryptographic Signature")], b64(sig)),
    ], preamble=b"This is a cryptographically signed message in MIME format.\r\n\r\n")
    data = entity([
        ("From", "Helen Zhao <helen.zhao@consumer-research.example.net>"),
        ("To", "consumer-team@research.example.com"),
        ("Subject", "Model update: China consumer"),
        ("Date", DATE % "19:45:00"),
        ("Message-ID", "<model-45@consumer-research.example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/signed; protocol="application/pkcs7-signature"; '
                         'micalg=sha-256;\r\n boundary="----smime-45"'),
    ], body)
    add("45-smime-signed.eml", data, "helen.zhao@consumer-research.example.net",
        ["consumer-team@research.example.com"],
        ["quonsettile"],
        ["quonsettile", "attachment:p7s", '"discretionary spending"', "from:helen.zhao",
         "subject:consumer"],
        ["subject:quonsettile", "attachment:quonsettile", "dringlebot"],
        "S/MIME multipart/signed: the signed text part is indexed, the signature is an "
        "attachment name only; '-- ' signature separator")


def case46():
    plain = text("""
        Invitation: product training - structured deposits
        Wednesday 11 November 2026, 14:00-15:30, Room 3.02
        """)
    ics = text("""
        BEGIN:VCALENDAR
        PRODID:-//Example Corp//Calendar 1.0//EN
        VERSION:2.0
        METHOD:REQUEST
        BEGIN:VEVENT
        UID:training-46@learning.example.com
        DTSTART:20261111T060000Z
        DTEND:20261111T073000Z
        SUMMARY:Product training - structured deposits
        DESCRIPTION:Mandatory for all relationship managers. Session bramblewick.
        LOCATION:Room 3.02
        END:VEVENT
        END:VCALENDAR
        """)
    body = multipart("b46", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(plain, "ascii")),
        entity([("Content-Type", 'text/calendar; charset=utf-8; method=REQUEST; name="invite.ics"'),
                ("Content-Disposition", 'attachment; filename="invite.ics"'),
                ("Content-Transfer-Encoding", "base64")], b64(enc(ics, "utf-8"))),
    ])
    data = entity([
        ("From", "training@learning.example.com"),
        ("To", "rm-all@sales.example.com"),
        ("Subject", "Invitation: product training - structured deposits"),
        ("Date", DATE % "10:46:00"),
        ("Message-ID", "<training-46@learning.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/mixed; boundary=b46"),
    ], body)
    add("46-calendar-invite.eml", data, "training@learning.example.com",
        ["rm-all@sales.example.com"],
        ["bramblewick"],
        ["bramblewick", "body:bramblewick", "attachment:invite.ics", '"structured deposits"',
         "mandatory"],
        ["subject:bramblewick", "subject:mandatory", "quonsettile"],
        "a text/calendar attachment (base64): a text/* attachment, so its text is in body")


def case47():
    subject = "季度复盘会议纪要（仅限内部） pemberlode".encode("utf-8")
    body = text("""
        会议纪要：
        一、本季度代销理财规模环比增长百分之六；
        二、蚕豆灯泡项目延期至下季度；
        三、严禁使用“保本保收益”“稳赚不赔”等违规话术。
        """)
    data = entity([
        ("From", "周明 <zhou.ming@research-partner.example.org>".encode("utf-8")),
        ("To", "sales-leads@sales.example.com, strategy@research.example.com"),
        ("Subject", subject),
        ("Date", DATE % "18:47:00"),
        ("Message-ID", "<review-47@research-partner.example.org>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ], enc(body, "utf-8"))
    add("47-raw-utf8-headers.eml", data, "zhou.ming@research-partner.example.org",
        ["sales-leads@sales.example.com", "strategy@research.example.com"],
        ["pemberlode", "蚕豆灯泡"],
        ["pemberlode", "蚕豆灯泡", "subject:复盘会议纪要", "from:周明", "违规话术",
         "subject:pemberlode"],
        ["subject:蚕豆灯泡", "会议复盘", "wendlebrook"],
        "unencoded raw UTF-8 in Subject and From (no RFC 2047; as sent with SMTPUTF8 or by "
        "careless mailers); UTF-8 is the first guess")


def case48():
    body = text("""
        Dear all,

        Attached for comment: the draft review of the insurance asset-management products
        we distribute. Please send comments by Friday. Draft id snorkelbisk.
        附：产品清单以石榴邮轮系列为主。
        """)
    subject = ("=?UTF-8?Q?Quarterly_review:?= " + ew("保险资管产品", "UTF-8") +
               " =?ISO-8859-1?Q?=E0_revoir?=")
    data = entity([
        ("From", ew("欧阳静", "UTF-8") + " <ouyang.jing@am-review.example.com>"),
        ("To", ew("销售部", "GB18030") + " <team@sales.example.com>"),
        ("Cc", ew("研究部", "big5") + " <team@research.example.com>"),
        ("Subject", subject),
        ("Date", DATE % "16:48:00"),
        ("Message-ID", "<draft-48@am-review.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(body, "utf-8"))
    add("48-rfc2047-mixed-charsets.eml", data, "ouyang.jing@am-review.example.com",
        ["team@sales.example.com", "team@research.example.com"],
        ["snorkelbisk", "石榴邮轮"],
        ["snorkelbisk", "石榴邮轮", "subject:保险资管产品", 'subject:"quarterly review"',
         "subject:revoir", "from:欧阳静", "to:销售部", "to:研究部"],
        ["subject:snorkelbisk", "subject:石榴邮轮", "from:销售部", "pemberlode"],
        "one Subject with UTF-8 Q, UTF-8 B and ISO-8859-1 Q encoded words; display names in "
        "UTF-8, GB18030 and Big5 encoded words; both departments")


def case49():
    outer_text = text("""
        Forwarding a promotional email a client received from a third party. Please
        check whether it is one of our distributed products. Ticket pilchardive.
        """)
    inner_html = text("""
        <html>
        <head>
        <script>
        var s = 'cronkleboop';
        </script>
        </head>
        <body>
        <p>Lock in a <b>guaranteed</b> 8% annual return with the Silverline Notes.</p>
        <p>Offer code wimbletrax. Limited places.</p>
        </body>
        </html>
        """)
    inner = entity([
        ("From", '"Silverline Offers" <offers@silverline-notes.example.biz>'),
        ("To", "client.999@example.net"),
        ("Subject", "Exclusive offer: guaranteed 8% return"),
        ("Date", "Sun, 01 Nov 2026 07:00:00 +0000"),
        ("Message-ID", "<offer-999@silverline-notes.example.biz>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(inner_html, "utf-8"))
    parts = multipart("b49", [
        entity([("Content-Type", "text/plain; charset=us-ascii")], enc(outer_text, "ascii")),
        entity([("Content-Type", "message/rfc822")], inner),
    ])
    data = entity([
        ("From", "frontline@westgate-bank.example.com"),
        ("To", "product-governance@research.example.com"),
        ("Subject", "Third-party promotion seen by a client"),
        ("Date", DATE % "09:49:00"),
        ("Message-ID", "<promo-49@westgate-bank.example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/mixed; boundary=b49"),
    ], parts)
    add("49-forwarded-html-inner.eml", data, "frontline@westgate-bank.example.com",
        ["product-governance@research.example.com"],
        ["pilchardive", "wimbletrax"],
        ["pilchardive", "body:wimbletrax", "body:silverline", 'body:"exclusive offer"',
         "body:client.999"],
        ["cronkleboop", "subject:silverline", "from:silverline", "to:client", "snorkelbisk"],
        "a forwarded HTML-only message (quoted-printable) inside message/rfc822: its text is "
        "in body, its <script> is not; its headers are not the outer from/to/subject")


# ---------------------------------------------------------------------------------------------

def build():
    for name in sorted(n for n in globals() if n.startswith("case") and n[4:].isdigit()):
        globals()[name]()
    CASES.sort(key=lambda c: c[0]["file"])
    return CASES


def write(outdir):
    cases = build()
    names = set()
    for c, data in cases:
        assert b"\n" not in data.replace(b"\r\n", b""), c["file"] + ": bare LF"
        assert b"\r" not in data.replace(b"\r\n", b""), c["file"] + ": bare CR"
        assert data.endswith(b"\r\n"), c["file"]
        names.add(c["file"])
        with open(os.path.join(outdir, c["file"]), "wb") as f:
            f.write(data)
    for n in os.listdir(outdir):
        if n.endswith(".eml") and n not in names:
            os.remove(os.path.join(outdir, n))
    with open(os.path.join(outdir, "cases.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump([c for c, _ in cases], f, ensure_ascii=False, indent=1)
        f.write("\n")
    return len(cases)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    n = write(out)
    print("wrote %d messages and cases.json to %s" % (n, out))
