"""The assignment's main script, running on fastmlp after changing only its import lines.

    python docs/examples/assignment_style.py --config configs/default.yaml

Reads the assignment's YAML file (``Train``: batch_size, learning_rate, reg, epochs, optional
debug; ``Model``: type, hidden_size), builds the model named there, and for every epoch shuffles
the training rows into batches, trains one epoch, evaluates on the validation rows, and keeps the
model with the best validation accuracy; then tests that model and plots the learning curves.
Every fastmlp name it uses comes from ``fastmlp.compat``. (It lives in docs/examples/ because the
repository's top level is fixed.)
"""

from __future__ import annotations

import argparse
import copy

import yaml

# The assignment imports these from its own modules:
#     from models import SoftmaxRegression, TwoLayerNet
#     from optimizer import SGD
#     from utils import load_mnist_trainval, load_mnist_test, generate_batched_data, train, evaluate, plot_curves
from fastmlp.compat import (
    SGD,
    SoftmaxRegression,
    TwoLayerNet,
    evaluate,
    generate_batched_data,
    load_mnist_test,
    load_mnist_trainval,
    plot_curves,
    train,
)


def main() -> None:
    parser = argparse.ArgumentParser(description="CS assignment-style MNIST training on fastmlp.compat")
    parser.add_argument("--config", default="configs/default.yaml")
    parser.add_argument("--plot", default="learning_curves.png", help="where to write the learning curves")
    args = parser.parse_args()
    with open(args.config) as f:
        config = yaml.safe_load(f)
    train_config, model_config = config["Train"], config["Model"]
    batch_size, epochs = train_config["batch_size"], train_config["epochs"]
    debug = train_config.get("debug", False)

    train_data, train_label, val_data, val_label = load_mnist_trainval()
    test_data, test_label = load_mnist_test()

    if model_config["type"] == "TwoLayerNet":
        model = TwoLayerNet(hidden_size=model_config.get("hidden_size", 128))
    else:
        model = SoftmaxRegression()
    optimizer = SGD(learning_rate=train_config["learning_rate"], reg=train_config["reg"])

    train_loss_history, train_acc_history, valid_loss_history, valid_acc_history = [], [], [], []
    best_acc, best_model = 0.0, None
    for epoch in range(epochs):
        batched_train_data, batched_train_label = generate_batched_data(
            train_data, train_label, batch_size=batch_size, shuffle=True, seed=epoch
        )
        epoch_loss, epoch_acc = train(epoch, batched_train_data, batched_train_label, model, optimizer, debug)
        batched_val_data, batched_val_label = generate_batched_data(
            val_data, val_label, batch_size=batch_size
        )
        valid_loss, valid_acc = evaluate(batched_val_data, batched_val_label, model, debug)
        print(
            f"epoch {epoch}: train loss {epoch_loss:.4f} acc {epoch_acc:.4f}, "
            f"validation loss {valid_loss:.4f} acc {valid_acc:.4f}"
        )
        train_loss_history.append(epoch_loss)
        train_acc_history.append(epoch_acc)
        valid_loss_history.append(valid_loss)
        valid_acc_history.append(valid_acc)
        if valid_acc > best_acc:
            best_acc, best_model = valid_acc, copy.deepcopy(model)

    batched_test_data, batched_test_label = generate_batched_data(
        test_data, test_label, batch_size=batch_size
    )
    _, test_acc = evaluate(batched_test_data, batched_test_label, best_model, debug=False)
    print(f"Final Accuracy on Test Data: {test_acc:.4f}")
    # The assignment's two figures (shown where there is a display), and fastmlp's PNG at --plot.
    plot_curves(train_loss_history, train_acc_history, valid_loss_history, valid_acc_history, path=args.plot)
    print(f"learning curves: {args.plot}")


if __name__ == "__main__":
    main()
