"""The official `dashscope` SDK (PyPI) against our fake DashScope.

Code we did not write must be able to stream text, read an error and run an
image task against the fake; if the fake drifts from the real protocol, this
fails. Usage: qwen_sdk_check.py BASE_URL API_KEY
"""
import sys

import dashscope
from dashscope import Generation, ImageSynthesis
from http import HTTPStatus

base, key = sys.argv[1], sys.argv[2]
dashscope.base_http_api_url = base + "/api/v1"
messages = [{"role": "user", "content": "写一段关于春天的话"}]

# 1. Incremental streaming: frames join into the whole answer, the last says stop.
parts, last = [], None
for r in Generation.call(model="qwen-plus", messages=messages, result_format="message",
                         stream=True, incremental_output=True, api_key=key):
    assert r.status_code == HTTPStatus.OK, (r.status_code, r.code, r.message)
    parts.append(r.output.choices[0].message.content)
    last = r
streamed = "".join(parts)
assert last.output.choices[0].finish_reason == "stop", last
assert "春天" in streamed, streamed
assert last.usage.output_tokens > 0

# 2. Cumulative streaming gives the same text; non-streaming too.
cumulative = None
for r in Generation.call(model="qwen-plus", messages=messages, result_format="message",
                         stream=True, incremental_output=False, api_key=key):
    cumulative = r.output.choices[0].message.content
assert cumulative == streamed, (cumulative, streamed)
whole = Generation.call(model="qwen-plus", messages=messages, result_format="message", api_key=key)
assert whole.status_code == HTTPStatus.OK and whole.output.choices[0].message.content == streamed

# 3. Errors parse into the SDK's code/message fields.
bad = Generation.call(model="qwen-plus", messages=messages, result_format="message", api_key="sk-wrong")
assert bad.status_code == 401 and bad.code == "InvalidApiKey", (bad.status_code, bad.code)
mod = Generation.call(model="qwen-plus", result_format="message", api_key=key,
                      messages=[{"role": "user", "content": "[[fault:moderation]]"}])
assert mod.status_code == 400 and mod.code == "DataInspectionFailed", (mod.status_code, mod.code)
midway = list(Generation.call(model="qwen-plus", result_format="message", stream=True, incremental_output=True,
                              api_key=key, messages=[{"role": "user", "content": "[[fault:error_after=3]]"}]))
assert midway[-1].status_code != HTTPStatus.OK and midway[-1].code == "InternalError", midway[-1]

# 4. An image task: async submit, the SDK polls /tasks/{id} until SUCCEEDED.
img = ImageSynthesis.call(model="wanx2.1-t2i-turbo", prompt="一只奔跑的猫", n=2, size="1024*1024", api_key=key)
assert img.status_code == HTTPStatus.OK, (img.status_code, img.code, img.message)
assert img.output.task_status == "SUCCEEDED", img.output
assert len(img.output.results) == 2 and img.output.results[0].url.startswith(base)
# Result links are OSS objects with a signed query, as in Alibaba's documented examples;
# the link downloads as it is, and the same object without its signature is refused.
from urllib.parse import urlsplit, parse_qs
import urllib.request, urllib.error
link = img.output.results[0].url
query = parse_qs(urlsplit(link).query)
assert {"Expires", "OSSAccessKeyId", "Signature"} <= set(query), link
assert int(query["Expires"][0]) > 0, link
with urllib.request.urlopen(link) as resp:
    assert resp.status == 200 and resp.read(8) == b"\x89PNG\r\n\x1a\n", link
try:
    urllib.request.urlopen(link.split("?")[0])
    raise AssertionError("an unsigned result link was served")
except urllib.error.HTTPError as e:
    assert e.code == 403, e.code
failed = ImageSynthesis.call(model="wanx2.1-t2i-turbo", prompt="[[fault:task_fail]]", n=1, size="1024*1024", api_key=key)
assert failed.output.task_status == "FAILED", failed.output

print("dashscope SDK", dashscope.__version__ if hasattr(dashscope, "__version__") else "", "agrees with the fake")
