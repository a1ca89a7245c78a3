#!/usr/bin/env bash
# Regenerates Sources/ACOLONNX/onnx.pb.swift from ONNX's onnx.proto with protoc and
# swift-protobuf's protoc-gen-swift (the version acol depends on). Run it only when onnx.proto
# or swift-protobuf changes; the output is committed so that builds need neither protoc nor the
# SwiftProtobuf build plugin (whose first build takes about 10 minutes).
#
#   Scripts/generate_onnx_proto.sh [ONNX_PROTO]
#
# ONNX_PROTO: a copy of onnx/onnx.proto (default: downloaded from the ONNX release below).
# Needs: protoc (apt-get install -y protobuf-compiler), git, swift, and curl when no file is given.
set -euo pipefail
cd "$(dirname "$0")/.."

ONNX_VERSION=${ONNX_VERSION:-v1.23.0}
SWIFT_PROTOBUF_VERSION=${SWIFT_PROTOBUF_VERSION:-1.39.0}
SWIFT_PROTOBUF_REPO=${SWIFT_PROTOBUF_REPO:-https://github.com/apple/swift-protobuf.git}
WORK=${WORK:-/tmp/acol-onnx-proto}
mkdir -p "$WORK"

command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

if [ $# -ge 1 ]; then
    cp "$1" "$WORK/onnx.proto"
else
    curl -fsSL "https://raw.githubusercontent.com/onnx/onnx/$ONNX_VERSION/onnx/onnx.proto" -o "$WORK/onnx.proto"
fi

if [ ! -x "$WORK/swift-protobuf/.build/release/protoc-gen-swift" ]; then
    rm -rf "$WORK/swift-protobuf"
    git clone -q "$SWIFT_PROTOBUF_REPO" "$WORK/swift-protobuf"
    git -C "$WORK/swift-protobuf" checkout -q "$SWIFT_PROTOBUF_VERSION"
    (cd "$WORK/swift-protobuf" && swift build -c release --product protoc-gen-swift)
fi

protoc --plugin=protoc-gen-swift="$WORK/swift-protobuf/.build/release/protoc-gen-swift" \
       --swift_opt=Visibility=Public \
       --swift_out="$WORK" -I "$WORK" "$WORK/onnx.proto"
cp "$WORK/onnx.pb.swift" Sources/ACOLONNX/onnx.pb.swift
echo "wrote Sources/ACOLONNX/onnx.pb.swift (onnx $ONNX_VERSION, swift-protobuf $SWIFT_PROTOBUF_VERSION)"
