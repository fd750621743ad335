#!/usr/bin/env bash
# slim4j quickstart: TF-Slim's workflow end to end on the CPU, in a few minutes.
#   1. convert Fashion-MNIST to TF-Slim's TFRecord files (download_and_convert_data),
#   2. train LeNet on it with checkpoints and TensorBoard logs (train_image_classifier),
#   3. evaluate the newest checkpoint on the test split (eval_image_classifier).
# Uses /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist) when present, else downloads
# Fashion-MNIST. Everything goes under $SLIM4J_QUICKSTART_DIR (default /tmp/slim4j-quickstart);
# running it again reuses the converted data and resumes or reuses the training run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
slim4j="$root/slim4j"
work="${SLIM4J_QUICKSTART_DIR:-/tmp/slim4j-quickstart}"
data="$work/fashion_mnist"
train="$work/lenet"
steps="${SLIM4J_QUICKSTART_STEPS:-1000}"
source_dir=/usr/share/datasets/fashion-mnist

echo "== 1/3 converting Fashion-MNIST into $data"
if [ -d "$source_dir" ]; then
    "$slim4j" download_and_convert_data --dataset_name=fashion_mnist --dataset_dir="$data" --source="$source_dir"
else
    echo "($source_dir not found: downloading Fashion-MNIST; on Debian: apt-get install dataset-fashion-mnist)"
    "$slim4j" download_and_convert_data --dataset_name=fashion_mnist --dataset_dir="$data"
fi

echo
echo "== 2/3 training lenet for $steps steps (checkpoints and TensorBoard logs in $train)"
"$slim4j" train_image_classifier \
    --train_dir="$train" \
    --dataset_name=fashion_mnist \
    --dataset_split_name=train \
    --dataset_dir="$data" \
    --model_name=lenet \
    --batch_size=50 \
    --max_number_of_steps="$steps" \
    --optimizer=adam \
    --opt_epsilon=1e-8 \
    --learning_rate=0.001 \
    --learning_rate_decay_type=fixed \
    --weight_decay=0 \
    --save_interval_secs=60 \
    --save_summaries_secs=30 \
    --log_every_n_steps=100 \
    --seed=1

echo
echo "== 3/3 evaluating the newest checkpoint on the 10,000 test images"
"$slim4j" eval_image_classifier \
    --checkpoint_path="$train" \
    --eval_dir="$train/eval" \
    --dataset_name=fashion_mnist \
    --dataset_split_name=test \
    --dataset_dir="$data" \
    --model_name=lenet

echo
echo "Done. Checkpoints: $train/model.ckpt-*   TensorBoard: tensorboard --logdir=$train"
echo "Train longer (it resumes from the newest checkpoint): SLIM4J_QUICKSTART_STEPS=5000 $0"
