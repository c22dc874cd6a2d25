#!/usr/bin/env bash
# Regenerates the IVR prompt set: freeswitch/sounds/<lang>/prepaid/<name>.wav, G.711 mu-law WAV,
# 8 kHz mono, from phrases-<lang>.tsv (espeak-ng + sox; `apt-get install -y espeak-ng sox`).
# The generated files are committed: tests and servers never need these tools.
#
#   scripts/prompts/generate.sh            # every language with a phrases-<lang>.tsv
#   scripts/prompts/generate.sh en         # one language
#
# A language pack: add phrases-<lang>.tsv (same names, translated text), a voice below, and the
# phrase rules in src/media/prompts/phrases.ts.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
command -v espeak-ng >/dev/null && command -v sox >/dev/null || { echo "needs espeak-ng and sox" >&2; exit 1; }

voice_for() {
  case "$1" in
    en) echo "en-gb" ;;
    es) echo "es" ;;
    *) echo "$1" ;;
  esac
}

langs=("$@")
if [ ${#langs[@]} -eq 0 ]; then
  for f in "$here"/phrases-*.tsv; do l="$(basename "$f" .tsv)"; langs+=("${l#phrases-}"); done
fi

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# sox: 8 kHz mono mu-law, no dither (-D, so output is reproducible), leading/trailing silence trimmed.
to_ulaw() { sox -D "$1" -r 8000 -c 1 -e mu-law -b 8 "$2" "${@:3}"; }

for lang in "${langs[@]}"; do
  out="$root/freeswitch/sounds/$lang/prepaid"
  voice="$(voice_for "$lang")"
  rm -rf "$out"; mkdir -p "$out/tones"
  while IFS=$'\t' read -r name text; do
    case "$name" in ''|'#'*) continue ;; esac
    mkdir -p "$out/$(dirname "$name")"
    espeak-ng -v "$voice" -s 165 -a 120 -w "$tmp/raw.wav" "$text"
    to_ulaw "$tmp/raw.wav" "$out/$name.wav" silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse pad 0 0.08 norm -3
  done < "$here/phrases-$lang.tsv"
  # Tones (language independent, kept per language so a pack is one folder).
  sox -D -n -r 8000 -c 1 -e mu-law -b 8 "$out/tones/beep.wav" synth 0.25 sine 1000 vol 0.5
  # UK ringback: 400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off (one cadence; play it looped).
  sox -D -n -r 8000 -c 1 -e mu-law -b 8 "$out/tones/ringback.wav" \
    synth 0.4 sine 400 sine 450 : synth 0.2 sine 0 vol 0 : synth 0.4 sine 400 sine 450 : synth 2.0 sine 0 vol 0 \
    channels 1 vol 0.4
  echo "$lang: $(find "$out" -name '*.wav' | wc -l) prompts, $(du -sh "$out" | cut -f1)"
done
