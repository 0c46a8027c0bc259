#!/usr/bin/env bash
# NativeAOT start-to-result check for B0: publishes samples/EffNet.EdgeClassifier, runs it on one image a few times and
# compares the wall time from process start to exit with one steady-state inference plus the weight read, both measured
# inside the same native binary (its --repeat option). Target: wall <= 3 x (inference + weight read).
#
#   bench/aot-startup.sh [--isa x86-64-v3|x86-64-v4|...] [--runs 7] [--repeat 20]
#                        [--weights b0.effw] [--image picture.jpg] [--out dir]
#
# Each of the --runs rounds times one plain run (the sample's normal use) and then runs it again with --repeat N, so
# load from other processes hits both halves of the ratio alike.
#
# Weights: --weights, else bench/models/b0.effw, else imported (effnet import) from bench/models/b0.pth into the work
# folder; tools/make_bench_models.py 0 makes bench/models. The binary goes to <out>/<isa>/ (default artifacts/aot-startup).
# Prints the figures and a verdict; exits 0 when it measured, whether or not the target was met (the verdict says).
set -euo pipefail
export LC_ALL=C   # printf and sort read "12.34" with a decimal point whatever the user's locale

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
isa=x86-64-v3
runs=7      # rounds: one timed start-to-exit run and one --repeat run each (after one untimed run for the page cache)
repeat=20   # inferences timed after the first image in each --repeat run
weights=""
image="$root/tests/Imaging.Tests/Fixtures/large_640x480.jpg"
out="$root/artifacts/aot-startup"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --isa) isa=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --weights) weights=$2; shift 2 ;;
        --image) image=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "aot-startup.sh: unknown argument '$1'" >&2; usage 1 ;;
    esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ && "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "aot-startup.sh: --runs and --repeat take a count >= 1" >&2; exit 1; }

# The upper middle value of the numbers on stdin, like the bench's Timing.Median.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print v[int(NR / 2) + 1] }'; }
# One key=value field of the sample's `timing:` line.
field() { sed -n "s/.*[[:space:]]$1=\([0-9.]*\).*/\1/p"; }

# --- publish: one folder per instruction set, so a v3 and a v4 build sit side by side ---------------------------------
bin_dir="$out/$isa"
echo "publishing samples/EffNet.EdgeClassifier for $isa -> $bin_dir"
# ILC's object file per instruction set (relative to the sample's folder): alternating --isa v3 and v4 then reuses
# each one instead of recompiling the whole program every time.
dotnet publish "$root/samples/EffNet.EdgeClassifier" -c Release -r linux-x64 -o "$bin_dir" \
    -p:IlcInstructionSet="$isa" -p:NativeIntermediateOutputPath="obj/native-$isa/" --nologo -v quiet
binary="$bin_dir/edge-classifier"
[ -x "$binary" ] || { echo "aot-startup.sh: $binary was not produced" >&2; exit 1; }

# --- weights ----------------------------------------------------------------------------------------------------------
models="$root/bench/models"
if [ -z "$weights" ]; then
    if [ -f "$models/b0.effw" ] && ! [ "$models/b0.pth" -nt "$models/b0.effw" ]; then
        weights="$models/b0.effw"
    elif [ -f "$models/b0.pth" ]; then
        # Imported into the work folder, so bench/models is only ever read here.
        weights="$out/b0.effw"
        if ! [ -f "$weights" ] || [ "$models/b0.pth" -nt "$weights" ]; then
            echo "importing $models/b0.pth -> $weights"
            dotnet run --project "$root/src/EffNet.Cli" -c Release -- import "$models/b0.pth" --phi 0 -o "$weights"
        fi
    else
        echo "aot-startup.sh: no B0 weights. Pass --weights b0.effw (effnet import), or make bench/models with" >&2
        echo "  /usr/bin/python3 tools/make_bench_models.py 0   (needs python3-torchvision)" >&2
        exit 1
    fi
fi
[ -f "$image" ] || { echo "aot-startup.sh: no image at $image" >&2; exit 1; }

# --- rounds: start-to-exit wall time, then the in-process weight read and steady-state inference ------------------------
echo "untimed first run (page cache):"
"$binary" "$weights" "$image" | sed 's/^/  /'

walls=(); mains=(); loads=(); inferences=(); first_pre=(); first_inf=()
for ((r = 0; r < runs; r++)); do
    start=$EPOCHREALTIME   # bash's own clock: no extra process around the measured one
    output=$("$binary" "$weights" "$image")
    end=$EPOCHREALTIME
    walls+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) * 1000 }')")
    mains+=("$(sed -n 's/.*; total \([0-9]*\) ms$/\1/p' <<<"$output")")

    line=$("$binary" --repeat "$repeat" "$weights" "$image" | grep '^timing:')
    loads+=("$(field weight_load_ms <<<"$line")")
    inferences+=("$(field inference_median_ms <<<"$line")")
    first_pre+=("$(field first_preprocess_ms <<<"$line")")
    first_inf+=("$(field first_inference_ms <<<"$line")")
done

wall=$(printf '%s\n' "${walls[@]}" | median)
main=$(printf '%s\n' "${mains[@]}" | median)
load=$(printf '%s\n' "${loads[@]}" | median)
inference=$(printf '%s\n' "${inferences[@]}" | median)
pre=$(printf '%s\n' "${first_pre[@]}" | median)
first=$(printf '%s\n' "${first_inf[@]}" | median)

echo
echo "NativeAOT B0 start-to-result, $isa, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
printf '  binary           %s bytes (%s)\n' "$(stat -c %s "$binary")" "$binary"
printf '  weights          %s bytes (%s)\n' "$(stat -c %s "$weights")" "$weights"
printf '  image            %s\n' "$image"
printf '  wall, start to exit         %8.2f ms  median of %d runs: %s\n' "$wall" "$runs" "$(printf '%s\n' "${walls[@]}" | sort -g | tr '\n' ' ')"
printf '    inside Main               %8s ms  median (the sample'"'"'s own total, whole ms)\n' "$main"
printf '  weight read                 %8.2f ms  median of %d runs (Classifier.Load)\n' "$load" "$runs"
printf '  first image                 %8.2f ms  decode + preprocess, %.2f ms first inference (medians)\n' "$pre" "$first"
printf '  one inference, steady state %8.2f ms  median of %d runs x %d inferences each\n' "$inference" "$runs" "$repeat"
awk -v w="$wall" -v i="$inference" -v l="$load" 'BEGIN {
    ratio = w / (i + l)
    printf "  ratio wall / (inference + weight read) = %.2f / (%.2f + %.2f) = %.2f  target <= 3: %s\n",
           w, i, l, ratio, ratio <= 3 ? "met" : "NOT met"
}'
