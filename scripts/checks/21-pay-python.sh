#!/usr/bin/env bash
# WeChat Pay / Alipay protocol code against wechatpayv3 and python-alipay-sdk.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/venv-pay
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import wechatpayv3, alipay' 2>/dev/null || "$VENV/bin/pip" install -q wechatpayv3 python-alipay-sdk
XCHECK=$(scripts/lib/built.sh pay example xcheck)
"$VENV/bin/python" scripts/checks/pay_xcheck.py "$XCHECK" crates/pay/tests/keys
