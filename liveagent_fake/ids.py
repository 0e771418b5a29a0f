"""Reversible identifiers: every generated id maps back to its row index without a lookup table.

An id is `(index * multiplier + offset) mod alphabet**width`, written in that alphabet. The
multiplier is coprime with the modulus, so the map is a bijection and ids look random but
never collide; decoding multiplies by the modular inverse.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

BASE36 = string.digits + string.ascii_lowercase
UPPER36 = string.digits + string.ascii_uppercase
BASE62 = string.digits + string.ascii_letters


@dataclass(frozen=True)
class IdCodec:
    alphabet: str
    width: int
    multiplier: int
    offset: int

    @property
    def modulus(self) -> int:
        return len(self.alphabet) ** self.width

    def encode(self, index: int) -> str:
        value = (index * self.multiplier + self.offset) % self.modulus
        base = len(self.alphabet)
        chars = []
        for _ in range(self.width):
            value, digit = divmod(value, base)
            chars.append(self.alphabet[digit])
        return "".join(reversed(chars))

    def decode(self, text: str) -> int | None:
        """The index behind `text`, or None when it is not an id of this codec."""
        if len(text) != self.width:
            return None
        base = len(self.alphabet)
        value = 0
        for char in text:
            digit = self.alphabet.find(char)
            if digit < 0:
                return None
            value = value * base + digit
        inverse = pow(self.multiplier, -1, self.modulus)
        return ((value - self.offset) * inverse) % self.modulus


def codec(alphabet: str, width: int, seed: int, salt: int) -> IdCodec:
    """A codec whose ids depend on the dataset seed; `salt` separates id families."""
    modulus = len(alphabet) ** width
    multiplier = (0x9E3779B97F4A7C15 + 2 * salt + seed * 6) % modulus
    while _gcd(multiplier, modulus) != 1:
        multiplier += 1
    offset = (seed * 0x2545F4914F6CDD1D + salt * 0x5851F42D4C957F2D) % modulus
    return IdCodec(alphabet, width, multiplier, offset)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a
