"""WeChat Pay and Alipay messages across code we did not write.

wechatpayv3 and python-alipay-sdk (PyPI) sign, encrypt and verify on one
side; our Rust code (crates/pay, via its `xcheck` example) on the other.
Usage: pay_xcheck.py PATH_TO_XCHECK_BINARY KEYS_DIR
"""
import base64, json, os, subprocess, sys, time
from unittest import mock

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3 import utils as wxutils
from alipay import AliPay

XCHECK, KEYS = sys.argv[1], sys.argv[2]
key = lambda name: open(os.path.join(KEYS, name)).read()
MCHID, APPID, APIV3 = "1900007291", "wxd678efh567hg6787", "inkstone-test-apiv3-key-32-bytes"
PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
MERCHANT_SERIAL = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB"
ALI_APP_ID, ALI_SELLER = "2021000000000001", "2088000000000001"
checks = 0


def rust(*args):
    out = subprocess.run([XCHECK, *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def expect(cond, what):
    global checks
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    checks += 1


# --- WeChat Pay -----------------------------------------------------------
platform_private = wxutils.load_private_key(key("wechat_platform_private.pem"))


def python_notification(order_no, total, ts, mchid=MCHID, serial=PUB_KEY_ID):
    """A notification as WeChat Pay sends it, built with their SDK's signer."""
    transaction = {"appid": APPID, "mchid": mchid, "out_trade_no": order_no, "transaction_id": "4200000000002104083200000488",
                   "trade_type": "NATIVE", "trade_state": "SUCCESS", "success_time": "2026-11-25T12:03:10+08:00",
                   "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"}}
    nonce = "fdasflkja484"
    ct = AESGCM(APIV3.encode()).encrypt(nonce.encode(), json.dumps(transaction, ensure_ascii=False).encode(), b"transaction")
    body = json.dumps({"id": "EV-2018022511223320873", "create_time": "2026-11-25T12:03:12+08:00", "resource_type": "encrypt-resource",
                       "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
                       "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                                    "ciphertext": base64.b64encode(ct).decode(), "associated_data": "transaction", "nonce": nonce}},
                      ensure_ascii=False, separators=(",", ":"))
    sig_nonce = "593BEC0C930BF1AFEB40B4A08C8FB242"
    signature = wxutils.rsa_sign(platform_private, f"{ts}\n{sig_nonce}\n{body}\n")
    return {"timestamp": str(ts), "nonce": sig_nonce, "signature": signature, "serial": serial}, body


now = int(time.time())
h, body = python_notification("IK20261125PY000001", 1000, now)
r = rust("wechat-verify", json.dumps({"headers": h, "body": body, "now": now}))
expect(r.get("ok") and r["order_no"] == "IK20261125PY000001" and r["amount_fen"] == 1000, f"our verifier accepts a wechatpayv3-signed notification: {r}")
for what, hh, bb, at in [
    ("tampered body", h, body.replace('"summary":"支付成功"', '"summary":"x"'), now),
    ("stale timestamp", h, body, now + 400),
    ("probe signature", {**h, "signature": "WECHATPAY/SIGNTEST/" + h["signature"]}, body, now),
    ("unknown serial", {**h, "serial": "PUB_KEY_ID_OTHER"}, body, now),
]:
    r = rust("wechat-verify", json.dumps({"headers": hh, "body": bb, "now": at}))
    expect(not r["ok"], f"{what} rejected: {r}")
h2, body2 = python_notification("IK20261125PY000002", 1000, now, mchid="1900000000")
r = rust("wechat-verify", json.dumps({"headers": h2, "body": body2, "now": now}))
expect(not r["ok"] and "mchid" in r["error"], f"another merchant's notification rejected: {r}")

wx = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=MCHID, private_key=key("wechat_merchant_private.pem"),
               cert_serial_no=MERCHANT_SERIAL, apiv3_key=APIV3, appid=APPID, notify_url="https://pay.example.com/notify/wechat",
               public_key=key("wechat_platform_public.pem"), public_key_id=PUB_KEY_ID)
ours = rust("wechat-notify", "IK20261125RS000001", "990", str(now))
data = wx.callback(ours["headers"], ours["body"])
expect(data and data["resource"]["out_trade_no"] == "IK20261125RS000001" and data["resource"]["amount"]["total"] == 990,
       f"wechatpayv3 verifies and decrypts our notification: {data}")
expect(wx.callback(ours["headers"], ours["body"].replace("TRANSACTION.SUCCESS", "TRANSACTION.X")) is None,
       "wechatpayv3 rejects our notification once tampered")

body = json.dumps({"appid": APPID, "mchid": MCHID, "description": "x", "out_trade_no": "IK1", "amount": {"total": 1000, "currency": "CNY"}})
with mock.patch("time.time", return_value=1795000000):
    theirs = wxutils.build_authorization("/v3/pay/transactions/native", "POST", MCHID, MERCHANT_SERIAL,
                                         wxutils.load_private_key(key("wechat_merchant_private.pem")), data=body, nonce_str="NONCE123")
mine = rust("wechat-auth", "POST", "/v3/pay/transactions/native", body, "1795000000", "NONCE123")["authorization"]
field = lambda a, n: a.split(f'{n}="')[1].split('"')[0]
expect(field(mine, "signature") == field(theirs, "signature"), "our request signature equals wechatpayv3's, byte for byte")

# --- Alipay ---------------------------------------------------------------
ali_as_platform = AliPay(appid=ALI_APP_ID, app_notify_url=None, app_private_key_string=key("alipay_platform_private.pem"),
                         alipay_public_key_string=key("alipay_app_public.pem"), sign_type="RSA2")
params = {"notify_time": "2026-11-25 12:03:12", "notify_type": "trade_status_sync", "notify_id": "ac0509952473", "charset": "utf-8",
          "version": "1.0", "app_id": ALI_APP_ID, "trade_no": "2026112522001400000000000009", "out_trade_no": "IK20261125AL000001",
          "seller_id": ALI_SELLER, "trade_status": "TRADE_SUCCESS", "total_amount": "100.00", "subject": "墨砚积分 1000",
          "gmt_payment": "2026-11-25 12:03:10"}
signed = ali_as_platform.sign_data(params) + "&sign_type=RSA2"
r = rust("alipay-verify-notify", signed)
expect(r.get("ok") and r["amount_fen"] == 10000, f"our verifier accepts a python-alipay-sdk-signed notification: {r}")
r = rust("alipay-verify-notify", signed.replace("total_amount=100.00", "total_amount=0.01"))
expect(not r["ok"], f"tampered amount rejected: {r}")
other_app = dict(params, app_id="2021999999999999")
r = rust("alipay-verify-notify", ali_as_platform.sign_data(other_app) + "&sign_type=RSA2")
expect(not r["ok"] and "app_id" in r["error"], f"another app's notification rejected: {r}")

req = rust("alipay-request", "IK20261125AL000002", "2026-11-25T04:00:00Z")["params"]
ali_as_app = AliPay(appid=ALI_APP_ID, app_notify_url=None, app_private_key_string=key("alipay_app_private.pem"),
                    alipay_public_key_string=key("alipay_platform_public.pem"), sign_type="RSA2")
their_sign = dict(p.split("=", 1) for p in ali_as_app.sign_data({k: v for k, v in req.items() if k != "sign"}).split("&"))["sign"]
from urllib.parse import unquote_plus
expect(unquote_plus(their_sign) == req["sign"], "our request signature equals python-alipay-sdk's, byte for byte")

raw = rust("alipay-response", "alipay.trade.precreate",
           json.dumps({"code": "10000", "msg": "Success", "out_trade_no": "IK20261125AL000002", "qr_code": "https://qr.alipay.com/bax01"}))["raw"]
resp = ali_as_app._verify_and_return_sync_response(raw, "alipay_trade_precreate_response")
expect(resp["qr_code"] == "https://qr.alipay.com/bax01", f"python-alipay-sdk verifies our signed answer: {resp}")
try:
    ali_as_app._verify_and_return_sync_response(raw.replace("bax01", "bax02"), "alipay_trade_precreate_response")
    expect(False, "python-alipay-sdk must reject a tampered answer")
except Exception:
    expect(True, "python-alipay-sdk rejects a tampered answer")

print(f"payment protocol cross-checks: {checks} passed (wechatpayv3, python-alipay-sdk)")
