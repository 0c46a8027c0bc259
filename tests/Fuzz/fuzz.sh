#!/usr/bin/env bash
# Fuzz one parser under AFL++ with SharpFuzz (docs/reliability.md):
#   tests/Fuzz/fuzz.sh <blob|blob-int8|pth|pickle|safetensors|npy|image> [seconds]
# Publishes the harness to tests/Fuzz/out/bin, instruments EffNet.Runtime, EffNet.Imaging and StbImageSharp there (once per
# publish), and runs afl-fuzz from tests/Fuzz/Seeds/<target> into tests/Fuzz/out/findings-<target> (resumed if it exists),
# for the given seconds (default: until Ctrl-C). Needs afl++ (apt-get install -y afl++) and
# `dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0`.
set -euo pipefail
target=${1:?usage: fuzz.sh <blob|blob-int8|pth|pickle|safetensors|npy|image> [seconds]}
seconds=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
bin="$out/bin"
export PATH="$PATH:$HOME/.dotnet/tools"

if [ ! -f "$bin/.instrumented" ]; then
  rm -rf "$bin"
  dotnet publish "$here/EffNet.Fuzz.csproj" -c Release -o "$bin" --nologo -v quiet
  for dll in EffNet.Runtime.dll EffNet.Imaging.dll StbImageSharp.dll; do
    sharpfuzz "$bin/$dll"
  done
  touch "$bin/.instrumented"
fi

findings="$out/findings-$target"
input="$here/Seeds/$target"
[ -d "$findings/default/queue" ] && input=-   # resume an earlier run

export AFL_SKIP_BIN_CHECK=1            # the fork server is SharpFuzz's, not a compiled-in one
export AFL_NO_UI=1                     # plain status lines, for logs
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1
limit=()
[ -n "$seconds" ] && limit=(-V "$seconds")
exec afl-fuzz -i "$input" -o "$findings" -t 5000 -m none "${limit[@]}" -- dotnet "$bin/effnet-fuzz.dll" "$target"
