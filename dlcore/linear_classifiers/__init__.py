"""From nearest neighbours to linear classifiers (Stanford CS231n notes §2-3; Hung-yi Lee, *Machine Learning*,
ch. 4; d2l, softmax regression): k-NN, the SVM and softmax losses, the Gaussian generative classifier, and the
studies the lesson runs on them.

    from dlcore.linear_classifiers import svm_loss, softmax_loss, knn_predict, gaussian_classifier
"""

from dlcore.linear_classifiers.errors import ClassifierInputError
from dlcore.linear_classifiers.gaussian import GaussianClassifier, gaussian_classifier
from dlcore.linear_classifiers.knn import cross_validate_k, knn_predict
from dlcore.linear_classifiers.linear import LinearConfig, train_linear
from dlcore.linear_classifiers.losses import softmax_loss, svm_loss

__all__ = ["ClassifierInputError", "GaussianClassifier", "LinearConfig", "cross_validate_k", "gaussian_classifier",
           "knn_predict", "softmax_loss", "svm_loss", "train_linear"]
