#!/usr/bin/env python3
"""Precision and recall of finding versions of one story (src/index/versions.rs).

The texts are real: the FLORES-200 devtest articles (Wikinews, Wikivoyage and Wikibooks,
professionally translated into Korean and Spanish), from a checkout of
Helsinki-NLP/OPUS-MT-testsets (`fetch` it). Each article is published in one of the three
languages as a notice on a board page, and then once more as one of:

  * a portal copy: another site's page around the same title and text;
  * a save of the page at a later day: the same board page with a correction line added,
    its view counter and a teaser of the next article in the sidebar;
  * a PDF twin: the board page printed to PDF by Debian's headless chromium.

Positive pairs: a notice and its second version. Negative pairs: a notice and its
translation in each of the two other languages (translations are not versions); a notice
and another article's notice on the same board (same furniture, another story); two
press releases of different articles that end with the same paragraph about the ministry.
(Each article is also published as such a release, so every story has three versions:
the pairs only count the notice and its second version.) The
pages go through `egovkb import` with no profile and `egovkb reindex`, and the stories of
the generation's versions.json are compared with the pairs, for each value of
`same_story` tried. Articles are split by position: the first two thirds choose the
value, the last third (held out) is only measured.

With --model, the pages are indexed again with the embedding model, and the links
between translations (src/index/languages.rs) are measured: each article's two
translations should be linked to its story or to each other, and no link should join two
articles.

Usage: versions_pairs.py OPUS_MT_TESTSETS_REPO WORKDIR [--binary target/release/egovkb]
           [--values 0.3,0.4,...] [--model 0.8,0.85,...]
"""
import argparse
import html
import json
import os
import shutil
import subprocess
import sys

FLORES = "datasets/facebook/flores/flores200_dataset/devtest/"
LANGS = {"en": "eng_Latn", "es": "spa_Latn", "ko": "kor_Hang"}
VARIANTS = ["portal", "saved-later", "pdf"]
# The paragraph a ministry puts under every press release (a notice's own text is shorter
# than many such paragraphs): two releases that share it are still two stories.
ABOUT = {
    "en": "About the Ministry. The Ministry of the Interior and Safety leads the digital "
          "government of the Republic of Korea and shares its experience with partner "
          "countries through training, consulting and joint projects. For more information, "
          "contact the International Cooperation Division.",
    "es": "Acerca del Ministerio. El Ministerio del Interior y Seguridad dirige el gobierno "
          "digital de la República de Corea y comparte su experiencia con los países socios "
          "mediante capacitación, consultoría y proyectos conjuntos. Para más información, "
          "contacte a la División de Cooperación Internacional.",
    "ko": "행정안전부 소개. 행정안전부는 대한민국의 디지털 정부를 이끌며 교육, 컨설팅, 공동 "
          "사업을 통해 협력 국가와 경험을 나눕니다. 자세한 내용은 국제협력과로 문의하십시오.",
}


def git_show(repo, path):
    return subprocess.run(["git", "-C", repo, "show", "HEAD:" + path], check=True,
                          capture_output=True, text=True).stdout.splitlines()


def articles(repo):
    meta = git_show(repo, FLORES.replace("devtest/", "metadata_devtest.tsv"))[1:]
    urls = [line.split("\t")[0] for line in meta]
    text = {lang: git_show(repo, FLORES + f"{code}.devtest") for lang, code in LANGS.items()}
    out, start = [], 0
    for i in range(1, len(urls) + 1):
        if i == len(urls) or urls[i] != urls[start]:
            if i - start >= 3:
                out.append({lang: text[lang][start:i] for lang in LANGS})
            start = i
    return out


def title_of(sentences, lang):
    words = sentences[0].split()
    return " ".join(words[: 6 if lang == "ko" else 9])


BOARD = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | Notices</title></head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/notices">Notices</a>
<a href="/about">About us</a></nav></header>
<div class="breadcrumb">Home &gt; News &amp; Notices</div>
<main><div class="board-view"><h2 class="subject">{title}</h2>
<ul class="info"><li>Date {date}</li><li>Views {views}</li><li>Department International Cooperation</li></ul>
<div class="content">{body}</div></div>
<div class="buttons"><a href="/notices">List</a> <a href="?prev">Previous</a> <a href="?next">Next</a></div></main>
<aside><h3>Related</h3><p>{aside}</p></aside>
<footer>Copyright Ministry. All rights reserved. Contact: help@example.org</footer></body></html>
"""

PORTAL = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<meta property="og:title" content="{title}"><title>{title} - Government Portal</title></head>
<body><div id="top"><a href="/">Portal</a> | <a href="/services">Services</a> | <a href="/press">Press</a></div>
<div id="wrap"><div id="lnb"><ul><li>Press releases</li><li>Photo news</li><li>Events</li></ul></div>
<article><h1>{title}</h1><p class="meta">Published {date} · Source: Ministry</p>
{body}<p class="share">Share: Facebook · X · Print</p></article></div>
<div id="foot">Government portal · Terms · Privacy</div></body></html>
"""


def paragraphs(sentences):
    return "".join(f"<p>{html.escape(s)}</p>" for s in sentences)


def write_pages(arts, pages):
    """The pages, and the pairs (name, name, positive, kind, held_out)."""
    os.makedirs(pages, exist_ok=True)
    pairs = []
    held_from = len(arts) * 2 // 3
    langs = list(LANGS)
    for i, art in enumerate(arts):
        lang = langs[i % 3]
        held = i >= held_from
        date = f"2024-{i % 12 + 1:02d}-{i % 27 + 1:02d}"
        nxt = arts[(i + 1) % len(arts)][lang]

        def page(tpl, lng, extra="", aside="", views=i * 7 + 3):
            t = title_of(art[lng], lng)
            return tpl.format(lang=lng, title=html.escape(t), date=date, views=views,
                              body=paragraphs(art[lng]) + extra, aside=html.escape(aside))

        board = f"a{i:03d}-{lang}-board.html"
        with open(os.path.join(pages, board), "w", encoding="utf-8") as f:
            f.write(page(BOARD, lang))
        variant = VARIANTS[i % 3]
        if variant == "portal":
            second = f"a{i:03d}-{lang}-portal.html"
            with open(os.path.join(pages, second), "w", encoding="utf-8") as f:
                f.write(page(PORTAL, lang))
        elif variant == "saved-later":
            second = f"a{i:03d}-{lang}-saved-later.html"
            correction = f"<p>(Corrected on {date}.)</p>"
            with open(os.path.join(pages, second), "w", encoding="utf-8") as f:
                f.write(page(BOARD, lang, extra=correction, aside=nxt[0], views=i * 7 + 120))
        else:
            second = f"a{i:03d}-{lang}-twin.pdf"
            subprocess.run(["chromium", "--headless", "--disable-gpu", "--no-sandbox",
                            "--no-pdf-header-footer", f"--print-to-pdf={os.path.join(pages, second)}",
                            "file://" + os.path.abspath(os.path.join(pages, board))],
                           check=True, capture_output=True, timeout=120)
        pairs.append((board, second, True, variant, held))
        for other in langs:
            if other != lang:
                name = f"a{i:03d}-{other}-translation.html"
                with open(os.path.join(pages, name), "w", encoding="utf-8") as f:
                    f.write(page(BOARD, other))
                pairs.append((board, name, False, "translation", held))
        release = f"a{i:03d}-{lang}-release.html"
        with open(os.path.join(pages, release), "w", encoding="utf-8") as f:
            f.write(page(PORTAL, lang, extra=f"<p>{html.escape(ABOUT[lang])}</p>"))
        if i >= 3:
            prev = f"a{i - 3:03d}-{lang}-board.html"
            pairs.append((prev, board, False, "same board", held))
            prev = f"a{i - 3:03d}-{lang}-release.html"
            pairs.append((prev, release, False, "same boilerplate", held))
    return pairs


def run(binary, work, *args, env=None, model=False):
    cmd = [binary, "--corpus", os.path.join(work, "c"), "--index", os.path.join(work, "i"), *args]
    env = {**os.environ, **(env or {})}
    if not model:
        env["EGOVKB_NO_MODEL"] = "1"
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def versions(binary, work, ranking, model=False):
    """Reindex with EGOVKB_RANKING=`ranking`; the generation's versions.json."""
    run(binary, work, "reindex", env={"EGOVKB_RANKING": ranking}, model=model)
    cur = open(os.path.join(work, "i", "CURRENT")).read().strip()
    with open(os.path.join(work, "i", cur, "versions.json"), encoding="utf-8") as f:
        return json.load(f)


def translations(binary, work, names, held_from, same_text):
    """Links between languages, with the model: each article's two translations should be
    linked to its story (the notice or one of its versions) or to each other; a link between
    two articles is wrong."""
    found = versions(binary, work, f"same_text={same_text}", model=True)
    article = lambda name: int(name[1:4])
    for held in (False, True):
        right = wrong = 0
        linked = set()
        for group in found["languages"]:
            files = [names.get(i, i) for i in group]
            for n, a in enumerate(files):
                for b in files[n + 1:]:
                    if (article(a) >= held_from) != held:
                        continue
                    if article(a) == article(b):
                        right += 1
                        for f in (a, b):
                            if f.endswith("-translation.html"):
                                linked.add(f)
                    else:
                        wrong += 1
        expected = sum(1 for f in names.values() if f.endswith("-translation.html")
                       and (article(f) >= held_from) == held)
        print(f"same_text={same_text} {'held-out' if held else 'dev     '}: {len(linked)} of {expected} "
              f"translations linked (recall {len(linked) / max(expected, 1):.3f}); links "
              f"right {right}, wrong {wrong} (precision {right / max(right + wrong, 1):.3f})")


def score(pairs, story_of, held):
    tp = fp = fn = tn = 0
    missed = {}
    for a, b, positive, kind, h in pairs:
        if h != held:
            continue
        same = story_of.get(a) is not None and story_of.get(a) == story_of.get(b)
        if positive and same:
            tp += 1
        elif positive:
            fn += 1
            missed[kind] = missed.get(kind, 0) + 1
        elif same:
            fp += 1
            missed[kind] = missed.get(kind, 0) + 1
        else:
            tn += 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, tp, fp, fn, missed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("work")
    ap.add_argument("--binary", default="target/release/egovkb")
    ap.add_argument("--values", default="0.3,0.4,0.5,0.6,0.7,0.8")
    ap.add_argument("--model", metavar="VALUES",
                    help="also index with the embedding model, with each of these values of "
                         "same_text, and measure the links between translations")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    shutil.rmtree(a.work, ignore_errors=True)
    pages = os.path.join(a.work, "pages")
    arts = articles(a.repo)
    pairs = write_pages(arts, pages)
    print(f"{len(arts)} articles, {len(pairs)} pairs "
          f"({sum(p[2] for p in pairs)} positive)", file=sys.stderr)
    run(binary, a.work, "import", pages)
    names = {}
    for line in run(binary, a.work, "export").splitlines():
        d = json.loads(line)
        names[d["id"]] = os.path.basename(d["url"])
    for same in a.values.split(","):
        story_of = {}
        for n, ids in enumerate(versions(binary, a.work, f"same_story={same}")["stories"]):
            for i in ids:
                story_of[names.get(i, i)] = n
        for held in (False, True):
            p, r, tp, fp, fn, missed = score(pairs, story_of, held)
            print(f"same_story={same} {'held-out' if held else 'dev     '}: precision {p:.3f} "
                  f"recall {r:.3f} (tp {tp}, fp {fp}, fn {fn}) wrong by kind {missed}")
    for same_text in a.model.split(",") if a.model else []:
        translations(binary, a.work, names, len(arts) * 2 // 3, same_text)


if __name__ == "__main__":
    main()
