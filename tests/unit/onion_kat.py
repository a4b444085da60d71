#!/usr/bin/env python3
"""onion_kat.py - an independent implementation of docs/onion.md's BUILD
message and forward cells, to compute the known-answer vectors in
tests/unit/test_onion.c. Not run by make check: run it by hand
(python3 tests/unit/onion_kat.py) and paste what it prints.

Written from docs/onion.md, not from crypto/onion.c. X25519, ChaCha20 and
ChaCha20-Poly1305 come from libsodium through ctypes; BLAKE2b from
Python's hashlib.

Inputs: hop k (k = 0..2) has onion secret key 32 x (0x10 + k), ephemeral
secret 32 x (0xa0 + k) and the instruction of instr(k) below; the five
unused records are bytes j & 0xff (j = 0..1239); hop 0 appends a filler of
248 x 0xee. The cells: REQUEST (cmd 1), stream 7, body 32 x 0x55, small
size, wrapped for the 3 hops with counters 0 and 1.

The relay descriptor: identity from the Ed25519 seed 32 x 0x42, onion key
X25519 of 32 x 0x43, not_after 1900000000, family 4, 192.0.2.7, port
4242, signed over "umbra relay v1" | the 91 bytes before the signature;
printed as the body of a RELAYS link message holding it alone.
"""
import ctypes
import ctypes.util
import hashlib

so = ctypes.CDLL(ctypes.util.find_library('sodium'))
assert so.sodium_init() >= 0

REC, PLAIN, HOPS = 248, 200, 8
PEEL = 7 * REC
SMALL = 2048 - 3 - 8


def buf(b):
    return ctypes.create_string_buffer(bytes(b), len(b))


def x25519(sk, pk):
    out = ctypes.create_string_buffer(32)
    assert so.crypto_scalarmult(out, buf(sk), buf(pk)) == 0
    assert out.raw != bytes(32)
    return out.raw


def x25519_base(sk):
    out = ctypes.create_string_buffer(32)
    assert so.crypto_scalarmult_base(out, buf(sk)) == 0
    return out.raw


def chacha_stream(n, nonce, key):
    out = ctypes.create_string_buffer(n)
    so.crypto_stream_chacha20_ietf(out, ctypes.c_ulonglong(n), buf(nonce),
                                   buf(key))
    return out.raw


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def aead_seal(key, aad, plain):
    out = ctypes.create_string_buffer(len(plain) + 16)
    outlen = ctypes.c_ulonglong()
    so.crypto_aead_chacha20poly1305_ietf_encrypt(
        out, ctypes.byref(outlen), buf(plain), ctypes.c_ulonglong(len(plain)),
        buf(aad), ctypes.c_ulonglong(len(aad)), None, buf(bytes(12)),
        buf(key))
    return out.raw


def keys(s, e_pub, onion_pk):
    h = hashlib.blake2b(e_pub + onion_pk, digest_size=32).digest()
    return {lab: hashlib.blake2b(h + lab.encode(), key=s,
                                 digest_size=32).digest()
            for lab in ('rec', 'peel', 'fwd', 'back', 'dig')}


def instr(k, n):
    exit_ = k == n - 1
    if exit_:
        return bytes([1]) + bytes(32 + 1 + 16 + 2) + bytes(148)
    return (bytes([0]) + bytes([0x30 + k + 1]) * 32 + bytes([4]) +
            bytes([10, 0, 0, k + 2]) + bytes(12) +
            (4000 + k + 1).to_bytes(2, 'big') + bytes(148))


def build(onion_sks, e_sks, unused):
    n = len(onion_sks)
    recs, ks = [], []
    for k in range(n):
        opk = x25519_base(onion_sks[k])
        epub = x25519_base(e_sks[k])
        kk = keys(x25519(e_sks[k], opk), epub, opk)
        p = instr(k, n)
        assert len(p) == PLAIN
        recs.append(bytearray(epub + aead_seal(kk['rec'], epub, p)))
        ks.append(kk)
    for i in range(n):
        for j in range(i):
            s = chacha_stream(PEEL, bytes(12), ks[j]['peel'])
            off = (i - 1 - j) * REC
            recs[i] = bytearray(xor(recs[i], s[off:off + REC]))
    msg = b''.join(bytes(r) for r in recs) + unused
    assert len(msg) == HOPS * REC
    return msg, ks


def peel(msg, k_peel, filler):
    shifted = msg[REC:] + filler
    s = chacha_stream(PEEL, bytes(12), k_peel)
    return xor(shifted[:PEEL], s) + shifted[PEEL:]


def cell_plain(cmd, stream, body, size):
    hdr = bytes(2) + bytes(8) + stream.to_bytes(4, 'big') + bytes([cmd]) + \
        len(body).to_bytes(2, 'big')
    return hdr + body + bytes(size - len(hdr) - len(body))


def wrap_fwd(ks, dig, ctr, plain):
    dig.update(plain[:2] + bytes(8) + plain[10:])
    d = dig.copy().digest()[:8]
    p = plain[:2] + d + plain[10:]
    nonce = ctr.to_bytes(8, 'little') + bytes(4)
    for kk in reversed(ks):
        p = xor(p, chacha_stream(len(p), nonce, kk['fwd']))
    return p


def ed25519_seed_keypair(seed):
    pk = ctypes.create_string_buffer(32)
    sk = ctypes.create_string_buffer(64)
    assert so.crypto_sign_seed_keypair(pk, sk, buf(seed)) == 0
    return pk.raw, sk.raw


def ed25519_sign(sk, m):
    sig = ctypes.create_string_buffer(64)
    so.crypto_sign_detached(sig, None, buf(m), ctypes.c_ulonglong(len(m)),
                            buf(sk))
    return sig.raw


def relay_desc():
    pk, sk = ed25519_seed_keypair(bytes([0x42]) * 32)
    fields = (pk + x25519_base(bytes([0x43]) * 32) +
              (1900000000).to_bytes(8, 'big') + bytes([4]) +
              bytes([192, 0, 2, 7]) + bytes(12) + (4242).to_bytes(2, 'big'))
    assert len(fields) == 91
    d = fields + ed25519_sign(sk, b'umbra relay v1' + fields)
    assert len(d) == 155
    return d


def c_hex(name, b):
    h = b.hex()
    print('static const char %s[] =' % name)
    lines = [h[i:i + 64] for i in range(0, len(h), 64)]
    for i, line in enumerate(lines):
        print('    "%s"%s' % (line, ';' if i == len(lines) - 1 else ''))


def main():
    onion_sks = [bytes([0x10 + k]) * 32 for k in range(3)]
    e_sks = [bytes([0xa0 + k]) * 32 for k in range(3)]
    unused = bytes(j & 0xff for j in range((HOPS - 3) * REC))
    msg, ks = build(onion_sks, e_sks, unused)
    after0 = peel(msg, ks[0]['peel'], bytes([0xee]) * REC)
    dig = hashlib.blake2b(key=ks[2]['dig'], digest_size=32)
    plain = cell_plain(1, 7, bytes([0x55]) * 32, SMALL)
    cell0 = wrap_fwd(ks, dig, 0, plain)
    cell1 = wrap_fwd(ks, dig, 1, plain)
    c_hex('KAT_K0_FWD_HEX', ks[0]['fwd'])
    c_hex('KAT_K0_BACK_HEX', ks[0]['back'])
    c_hex('KAT_K2_DIG_HEX', ks[2]['dig'])
    c_hex('KAT_BUILD_HEX', msg)
    c_hex('KAT_AFTER0_HEX', after0)
    c_hex('KAT_CELL0_HEX', cell0)
    c_hex('KAT_CELL1_B2B_HEX', hashlib.blake2b(cell1, digest_size=32).digest())
    c_hex('KAT_RELAYS1_HEX', bytes([1]) + relay_desc())


if __name__ == '__main__':
    main()
