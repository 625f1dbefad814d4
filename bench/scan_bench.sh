#!/usr/bin/env bash
# apitokenctl scan against grep on the same data, in the same run (issue 15:
# "scanning is I/O- and memchr-bound"): target within 1.5x of
# `grep -r -F -c atk_` for both data sets.
#   - text: >= 1 GiB of mixed text (prose, code, logs, JSON, hex and base64
#     blobs, near misses such as attack_ and atk_ with a wrong checksum) in 8
#     files, with a few hundred real tokens sprinkled in;
#   - tree: 100,000 small files (100 directories of 1,000) of the same text,
#     a few hundred of them holding a token.
# Both are written to a temporary directory under /tmp (removed afterwards),
# read once to warm the page cache, then each tool runs 3 times and the best
# time counts. grep runs with LC_ALL=C, its fastest. The scan must find
# exactly the tokens put in, else the benchmark fails (exit 1); a missed
# target is reported, not enforced (timings depend on the machine).
#
# Usage: scan_bench.sh APITOKENCTL MAKE_TOKENS [--quick] [--text-mib=N] [--files=N]
#   --quick: 8 MiB of text and 2,000 files (the ctest smoke test).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 APITOKENCTL MAKE_TOKENS [--quick] [--text-mib=N] [--files=N]" >&2
    exit 2
fi
ctl=$1
make_tokens=$2
shift 2
text_mib=1024
files=100000
tokens=300
runs=3
for arg in "$@"; do
    case $arg in
        --quick) text_mib=8 files=2000 tokens=40 ;;
        --text-mib=*) text_mib=${arg#*=} ;;
        --files=*) files=${arg#*=} ;;
        *) echo "$0: unknown option $arg" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d /tmp/apitoken-scan-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

"$make_tokens" "$((2 * tokens))" >"$work/tokens"

# Writes the data sets; prints how many tokens went into each.
python3 - "$work" "$text_mib" "$files" "$tokens" >"$work/placed" <<'PYTHON'
import os, random, sys, zlib

work, text_mib, files, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(15)
all_tokens = open(os.path.join(work, "tokens")).read().split()
words = ("the of and to in is that for it as was with be by on not he this are or his from at "
         "which but have an they you were her she there been one all we their has would when "
         "token secret password config deploy build release server client request response "
         "attack_surface data_base api_key user_name atk_prefix").split()

def hexs(n): return "".join(rng.choice("0123456789abcdef") for _ in range(n))

def line():
    kind = rng.randrange(100)
    if kind < 35:
        return " ".join(rng.choice(words) for _ in range(rng.randint(4, 16))).capitalize() + "."
    if kind < 60:
        name = rng.choice(words) + "_" + rng.choice(words)
        return f"    {name} = call_{rng.choice(words)}({rng.randint(0, 9999)}, \"{rng.choice(words)}\");"
    if kind < 75:
        return (f"2026-12-02T06:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z host{rng.randint(1, 9)} "
                f"sshd[{rng.randint(100, 99999)}]: Accepted publickey for {rng.choice(words)} port {rng.randint(1024, 65535)}")
    if kind < 85:
        return f'  {{"id": "{hexs(12)}", "name": "{rng.choice(words)}", "count": {rng.randint(0, 10**6)}}},'
    if kind < 92:
        return hexs(rng.randint(16, 96))
    if kind < 98:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                       for _ in range(76))
    # near misses: not a token (wrong checksum, too short, uppercase)
    return rng.choice([f"atk_{hexs(52)}", f"atk_{hexs(40)}", f"ATK_{hexs(52)}", "atk_ is our prefix"])

pool = ("\n".join(line() for _ in range(300_000)) + "\n").encode()  # ~16 MiB

def token_text(i): return f" TOKEN={all_tokens[i]}\n".encode()

# The text set: 8 files, the tokens spread over them.
text_dir = os.path.join(work, "text")
os.mkdir(text_dir)
per_file = text_mib * 2**20 // 8
placed_text = 0
for f in range(8):
    share = tokens // 8 + (1 if f < tokens % 8 else 0)
    cuts = sorted(rng.randrange(per_file) for _ in range(share))
    with open(os.path.join(text_dir, f"part{f}.txt"), "wb") as out:
        written = 0
        start = rng.randrange(len(pool))
        for cut in cuts + [per_file]:
            while written < cut:
                n = min(cut - written, len(pool) - start)
                out.write(pool[start:start + n])
                written += n
                start = (start + n) % len(pool)
            if cut != per_file:
                out.write(token_text(placed_text))
                placed_text += 1

# The tree: files/100 per directory, 100 to 2,500 bytes each.
tree_dir = os.path.join(work, "tree")
with_token = set(rng.sample(range(files), min(tokens, files)))
placed_tree = 0
per_dir = max(files // 100, 1)
for i in range(files):
    d = os.path.join(tree_dir, f"d{i // per_dir:03d}")
    if i % per_dir == 0:
        os.makedirs(d, exist_ok=True)
    start = rng.randrange(len(pool) - 2600)
    body = pool[start:start + rng.randint(100, 2500)]
    if i in with_token:
        cut = rng.randrange(len(body))
        body = body[:cut] + token_text(tokens + placed_tree) + body[cut:]
        placed_tree += 1
    with open(os.path.join(d, f"f{i:06d}.txt"), "wb") as out:
        out.write(body)
print(placed_text, placed_tree)
PYTHON
read -r placed_text placed_tree <"$work/placed"

now() { date +%s%N; }

# The best of $runs wall-clock times of a command, in seconds; its output
# goes to $work/out.
best_of() {
    local best="" start end t i
    for ((i = 0; i < runs; i++)); do
        start=$(now)
        "$@" >"$work/out" 2>"$work/err" || true
        end=$(now)
        t=$((end - start))
        if [[ -z $best || $t -lt $best ]]; then best=$t; fi
    done
    printf '%d.%03d' $((best / 1000000000)) $((best / 1000000 % 1000))
}

failed=0
printf '%-22s %10s %8s %7s %9s %9s %7s  %s\n' "data set" "size" "files" "tokens" "scan (s)" \
    "grep (s)" "ratio" "target <= 1.5"
for set in text tree; do
    dir=$work/$set
    expected=$placed_text
    [[ $set == tree ]] && expected=$placed_tree
    size_mib=$(du -sm "$dir" | cut -f1)
    count=$(find "$dir" -type f | wc -l)
    # Warm the page cache: both tools then read from memory.
    find "$dir" -type f -print0 | xargs -0 cat >/dev/null
    scan_time=$(best_of "$ctl" scan --offline "$dir")
    found=$(wc -l <"$work/out")
    if [[ $found -ne $expected ]]; then
        echo "scan_bench: the scan found $found tokens in $set, $expected were put in" >&2
        head -5 "$work/err" >&2
        failed=1
    fi
    grep_time=$(best_of env LC_ALL=C grep -r -F -c atk_ "$dir")
    ratio=$(awk -v s="$scan_time" -v g="$grep_time" 'BEGIN { printf "%.2f", (g > 0 ? s / g : 0) }')
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5 ? "met" : "MISSED") }')
    label="$text_mib MiB of text"
    [[ $set == tree ]] && label="$files small files"
    printf '%-22s %6s MiB %8s %7s %9s %9s %7s  %s\n' "$label" "$size_mib" "$count" "$found" \
        "$scan_time" "$grep_time" "$ratio" "$verdict"
done
echo "scan: apitokenctl scan --offline DIR; grep: LC_ALL=C grep -r -F -c atk_ DIR; best of $runs, page cache warm"
exit "$failed"
