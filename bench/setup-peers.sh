#!/bin/sh
# bench/setup-peers.sh: one-off setup for `npm run bench:peers`.
#
# The npm peers (usearch, hnswlib-node) are devDependencies and come with
# `npm install`. FAISS is taken from Debian (a generic build, not one
# specialised for AVX-512), with numpy and scikit-learn, for the system
# python3 that bench/peers_faiss.py runs under. The benchmark never installs
# anything itself: it checks for these and prints this command when missing.
set -eu
SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends python3-faiss python3-numpy python3-sklearn
/usr/bin/python3 -c 'import faiss, numpy, sklearn; print("faiss", faiss.__version__, "numpy", numpy.__version__, "sklearn", sklearn.__version__)'
