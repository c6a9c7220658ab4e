r"""The Gaussian generative classifier (Hung-yi Lee, *Machine Learning*, ch. 4, "Classification").

Each class $c$ is a Gaussian $\mathcal N(\mu_c, \Sigma_c)$ fitted by maximum likelihood
($\mu_c$ the class mean, $\Sigma_c = \frac1{N_c}\sum (x-\mu_c)(x-\mu_c)^\top$), with prior $P(C_c) = N_c / N$;
a point goes to the class of the largest posterior $P(C_c \mid x) \propto P(x \mid C_c) P(C_c)$ (Bayes).
With one shared covariance $\Sigma = \sum_c \frac{N_c}{N}\Sigma_c$ the quadratic terms cancel and the boundary is
linear: for two classes $P(C_1 \mid x) = \sigma(w \cdot x + b)$ with
$w = \Sigma^{-1}(\mu_1 - \mu_2)$, $b = -\tfrac12 \mu_1^\top\Sigma^{-1}\mu_1 + \tfrac12 \mu_2^\top\Sigma^{-1}\mu_2
+ \ln\frac{N_1}{N_2}$ — the form of logistic regression. Here $C_1$ is class 1 and $C_2$ class 0 (so that
$w, b$ read like scikit-learn's ``LogisticRegression`` for the label 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from dlcore.linear_classifiers.errors import ClassifierInputError

RIDGE = 1e-3     # added to the diagonal (times the mean variance) when a covariance is singular
COND_MAX = 1e6   # a covariance whose eigenvalues differ by more than this counts as singular


def _regularised(cov: Tensor) -> tuple[Tensor, bool]:
    """``cov`` itself, or ``cov + ridge * I`` when it is (near) singular; and whether it was changed."""
    eig = torch.linalg.eigvalsh(cov)
    scale = float(eig.abs().max()) if eig.numel() else 0.0
    if scale > 0 and float(eig.min()) > scale / COND_MAX:
        return cov, False
    ridge = RIDGE * max(float(cov.diagonal().mean()), 1e-6)
    return cov + ridge * torch.eye(len(cov), dtype=cov.dtype, device=cov.device), True


@dataclass(frozen=True)
class GaussianClassifier:
    means: Tensor        # (C, D): mu_c
    covs: Tensor         # (C, D, D): Sigma_c (all equal when shared), after any regularisation
    priors: Tensor       # (C,): N_c / N
    shared: bool
    regularised: bool    # a covariance was singular and got a ridge on its diagonal

    def log_joint(self, x: Tensor) -> Tensor:
        r"""$\ln P(x \mid C_c) + \ln P(C_c)$ for each row of x (M, D) and class, (M, C):
        $-\tfrac12[(x-\mu_c)^\top\Sigma_c^{-1}(x-\mu_c) + \ln|\Sigma_c| + D\ln 2\pi] + \ln P(C_c)$."""
        x = x.to(self.means.dtype)
        d = x[:, None, :] - self.means[None]                              # (M, C, D)
        inv = torch.linalg.inv(self.covs)                                 # (C, D, D): Sigma_c^{-1}
        D = x.shape[1]   # (x-mu)^T Sigma^{-1} (x-mu) = sum_ij d_i [Sigma^{-1}]_ij d_j: D^2 products of (M, C) planes
        maha = sum(d[..., i] * inv[:, i, j] * d[..., j] for i in range(D) for j in range(D))      # (M, C)
        logdet = torch.linalg.slogdet(self.covs).logabsdet                # ln |Sigma_c|
        return -0.5 * (maha + logdet + D * math.log(2 * math.pi)) + self.priors.log()

    def posterior(self, x: Tensor) -> Tensor:
        r"""$P(C_c \mid x)$, (M, C); rows sum to 1."""
        return torch.softmax(self.log_joint(x), dim=1)

    def predict(self, x: Tensor) -> Tensor:
        """The class of the largest posterior for each row of x, (M,) int64."""
        return self.log_joint(x).argmax(1)

    def linear_form(self) -> tuple[Tensor, Tensor]:
        r"""For two classes with a shared covariance: $(w, b)$ with $P(\text{class } 1 \mid x) = \sigma(w \cdot x
        + b)$, $w = \Sigma^{-1}(\mu_1 - \mu_0)$, $b = -\tfrac12\mu_1^\top\Sigma^{-1}\mu_1 + \tfrac12\mu_0^\top
        \Sigma^{-1}\mu_0 + \ln\frac{N_1}{N_0}$."""
        if not self.shared or len(self.means) != 2:
            raise ClassifierInputError("bad_class", classes=len(self.means))
        inv = torch.linalg.inv(self.covs[0])
        mu0, mu1 = self.means
        w = inv @ (mu1 - mu0)
        b = -0.5 * mu1 @ inv @ mu1 + 0.5 * mu0 @ inv @ mu0 + torch.log(self.priors[1] / self.priors[0])
        return w, b


def gaussian_classifier(x: Tensor, y: Tensor, shared_cov: bool) -> GaussianClassifier:
    r"""Fit one Gaussian per class by maximum likelihood; ``shared_cov``: one $\Sigma$ for all classes (a linear
    boundary) or one per class (quadratic). A singular covariance (too few or collinear points) gets a small
    ridge on its diagonal and ``regularised`` says so. x: (N, D) float; y: (N,) int64 with classes 0..C-1."""
    classes = torch.unique(y)
    if len(classes) < 2:
        raise ClassifierInputError("one_class")
    if int(classes.max()) != len(classes) - 1:
        raise ClassifierInputError("bad_class", classes=len(classes))
    x = x.double()
    n = len(x)
    means, covs, counts = [], [], []
    for c in range(len(classes)):
        xc = x[y == c]
        mu = xc.mean(0)
        d = xc - mu
        means.append(mu)
        covs.append(d.T @ d / len(xc))        # maximum likelihood: divide by N_c
        counts.append(len(xc))
    priors = torch.tensor(counts, dtype=x.dtype, device=x.device) / n
    cov = torch.stack(covs)
    if shared_cov:
        pooled = (priors[:, None, None] * cov).sum(0)
        pooled, changed = _regularised(pooled)
        cov = pooled.expand(len(classes), -1, -1).clone()
    else:
        fixed = [_regularised(c) for c in cov]
        cov = torch.stack([c for c, _ in fixed])
        changed = any(flag for _, flag in fixed)
    return GaussianClassifier(torch.stack(means), cov, priors, bool(shared_cov), changed)
