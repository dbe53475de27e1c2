#!/bin/bash
# Two fine-tunes of the bundled SRResNet side by side on one GPU (A: L1, B: L1 + binarisation hinge).
set -o pipefail
python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 3
R=$PWD
export PYTHONPATH=/tmp/site:$R KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_MEM_FRACTION=0.8
nvidia-smi -L; nproc; python3 -c "import keras, jax; print(keras.__version__, jax.__version__, jax.devices())"
run() {  # name loss
  mkdir -p /tmp/$1 && cd /tmp/$1 && timeout 320 python3 $R/scripts/train_bundled.py --profile gpu --pairs 60000 \
    --hard-pairs 25000 --data-seed 2041 --eval-codes 500 --learning-rate 2e-4 --mixed-precision mixed_bfloat16 \
    --init $R/.whl/init_b.weights.h5 --model 16x64:3.6 --pixel-loss $2 --out $OUT/$1 \
    > $OUT/$1.log 2>&1
  echo "$1 exit $?"
}
run c l1+binary
for v in c; do [ -f $OUT/$v/16x64/generator.weights.h5 ] && rm -f $OUT/$v/16x64/generator_latest.weights.h5; done
tail -n 4 $OUT/c.log | cut -c1-1500
find $OUT -type f | sort
