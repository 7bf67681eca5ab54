"""Our safe-mode implementation against WeChat's published vectors (no Django needed).

* The official message-push guide's URL check and plain-push examples: Token "AAAAA".
* WeChat's sample-code vectors for the EncodingAESKey
  "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG": the Java sample's test encrypts
  "我是中文abcd123" for appid wxb11529c136998cb6 with the random prefix "aaaabbbbccccdddd"
  (deterministic), and the Python sample decrypts a pushed XML for appid wx2c2769f8efd9abc2,
  token "spamtest", timestamp 1409735669, nonce 1320562132, whose msg_signature is given."""

from __future__ import annotations

import base64

import pytest

from assistant.push_crypto import PushCrypto, PushError, aes_key_from, sha1_signature

SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PY_SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PG"
    "HQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6"
    "tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp"
    "3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhv"
    "Ql+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)


def test_url_check_signature_of_the_official_example():
    assert sha1_signature("AAAAA", "1714036504", "1514711492") == (
        "f464b24fc39322e44b38aa78f5edd27bd1441696"
    )
    crypto = PushCrypto(token="AAAAA", encoding_aes_key=SAMPLE_KEY, appid="wx")
    assert crypto.url_check(
        signature="f464b24fc39322e44b38aa78f5edd27bd1441696",
        timestamp="1714036504",
        nonce="1514711492",
    )
    assert not crypto.url_check(
        signature="f464b24fc39322e44b38aa78f5edd27bd1441696",
        timestamp="1714036505",
        nonce="1514711492",
    )


def test_plain_push_signature_of_the_official_example():
    assert sha1_signature("AAAAA", "1714037059", "486452656") == (
        "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    )


def test_encryption_matches_the_java_sample_vector():
    crypto = PushCrypto(token="pamtest", encoding_aes_key=SAMPLE_KEY, appid="wxb11529c136998cb6")
    encrypted = crypto.encrypt("我是中文abcd123", random_prefix=b"aaaabbbbccccdddd")
    assert encrypted == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )
    assert crypto.decrypt(encrypted) == "我是中文abcd123"


def test_signature_and_decryption_of_the_python_sample_push():
    crypto = PushCrypto(token="spamtest", encoding_aes_key=SAMPLE_KEY, appid="wx2c2769f8efd9abc2")
    assert crypto.msg_signature(
        timestamp="1409735669", nonce="1320562132", encrypt=PY_SAMPLE_ENCRYPT
    ) == ("5d197aaffba7e9b25a30732f161a50dee96bd5fa")
    message = crypto.open(
        msg_signature="5d197aaffba7e9b25a30732f161a50dee96bd5fa",
        timestamp="1409735669",
        nonce="1320562132",
        encrypt=PY_SAMPLE_ENCRYPT,
    )
    assert "<Content><![CDATA[abcdteT]]></Content>" in message
    assert "<MsgId>6054768590064713728</MsgId>" in message


def test_a_wrong_signature_is_refused_before_decrypting():
    crypto = PushCrypto(token="spamtest", encoding_aes_key=SAMPLE_KEY, appid="wx2c2769f8efd9abc2")
    with pytest.raises(PushError) as caught:
        crypto.open(
            msg_signature="5d197aaffba7e9b25a30732f161a50dee96bd5fb",
            timestamp="1409735669",
            nonce="1320562132",
            encrypt=PY_SAMPLE_ENCRYPT,
        )
    assert caught.value.reason == "signature"


def test_a_message_for_another_appid_is_refused():
    crypto = PushCrypto(token="spamtest", encoding_aes_key=SAMPLE_KEY, appid="wx-our-app")
    with pytest.raises(PushError) as caught:
        crypto.decrypt(PY_SAMPLE_ENCRYPT)
    assert caught.value.reason == "appid"


@pytest.mark.parametrize(
    "encrypt",
    [
        "not base64!",
        "",
        base64.b64encode(b"x" * 15).decode(),
        base64.b64encode(b"\0" * 32).decode(),
    ],
)
def test_malformed_ciphertexts_are_refused(encrypt):
    crypto = PushCrypto(token="t", encoding_aes_key=SAMPLE_KEY, appid="wx")
    with pytest.raises(PushError) as caught:
        crypto.decrypt(encrypt)
    assert caught.value.reason == "decrypt"


def test_round_trip_with_padding_of_32_bytes():
    crypto = PushCrypto(token="t", encoding_aes_key=SAMPLE_KEY, appid="wx1234")
    for length in (0, 1, 11, 12, 13, 44, 100):
        text = "字" * length
        encrypted = crypto.encrypt(text)
        assert len(base64.b64decode(encrypted)) % 32 == 0
        assert crypto.decrypt(encrypted) == text


def test_the_key_must_be_43_base64_characters():
    assert len(aes_key_from(SAMPLE_KEY)) == 32
    with pytest.raises(ValueError):
        aes_key_from(SAMPLE_KEY[:-1])
    with pytest.raises(ValueError):
        aes_key_from("!" * 43)
