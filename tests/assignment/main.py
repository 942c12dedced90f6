"""The assignment's main script: train the model a YAML file names, keep the best epoch's model
by validation accuracy, test it, plot the learning curves.

(The assignment's reads the file with ``yaml.load(f)``, which PyYAML 6 refuses without a
``Loader``; this reconstruction uses ``yaml.safe_load``.)
"""

import argparse
import copy

import yaml
from models import SoftmaxRegression, TwoLayerNet
from optimizer import SGD
from utils import evaluate, generate_batched_data, load_mnist_test, load_mnist_trainval, plot_curves, train

parser = argparse.ArgumentParser(description="The assignment's two-layer MNIST network")
parser.add_argument("--config", default="./configs/config_softmax.yaml")


def main():
    histories = run()
    plot_curves(*histories)


def run():
    args = parser.parse_args()
    with open(args.config) as f:
        config = yaml.safe_load(f)
    for section in config.values():
        for key, value in section.items():
            setattr(args, key, value)

    train_data, train_label, val_data, val_label = load_mnist_trainval()
    test_data, test_label = load_mnist_test()

    if args.type == "SoftmaxRegression":
        model = SoftmaxRegression()
    elif args.type == "TwoLayerNet":
        model = TwoLayerNet(hidden_size=args.hidden_size)
    optimizer = SGD(learning_rate=args.learning_rate, reg=args.reg)

    train_loss_history, train_acc_history, valid_loss_history, valid_acc_history = [], [], [], []
    best_acc, best_model = 0.0, None
    for epoch in range(args.epochs):
        batched_train_data, batched_train_label = generate_batched_data(
            train_data, train_label, batch_size=args.batch_size, shuffle=True
        )
        epoch_loss, epoch_acc = train(
            epoch, batched_train_data, batched_train_label, model, optimizer, args.debug
        )
        train_loss_history.append(epoch_loss)
        train_acc_history.append(epoch_acc)

        batched_val_data, batched_val_label = generate_batched_data(
            val_data, val_label, batch_size=args.batch_size
        )
        valid_loss, valid_acc = evaluate(batched_val_data, batched_val_label, model, args.debug)
        if args.debug:
            print(f"* Validation Accuracy: {valid_acc:.4f}")
        valid_loss_history.append(valid_loss)
        valid_acc_history.append(valid_acc)
        if valid_acc > best_acc:
            best_acc = valid_acc
            best_model = copy.deepcopy(model)

    batched_test_data, batched_test_label = generate_batched_data(
        test_data, test_label, batch_size=args.batch_size
    )
    _, test_acc = evaluate(batched_test_data, batched_test_label, best_model)  # the best model
    if args.debug:
        print(f"Final Accuracy on Test Data: {test_acc:.4f}")
    return train_loss_history, train_acc_history, valid_loss_history, valid_acc_history


if __name__ == "__main__":
    main()
