"""The project's three image flows (RealNVP, Glow, IAF) written directly in PyTorch, eager mode.

This module is the reference the Java engine is measured against: the same layers, the same
sizes and the same arithmetic as the classes in org.flowfiji.flow, written the way a PyTorch user
would write them. It is imported by bench_torch.py (throughput) and train_glow_fmnist.py
(Fashion-MNIST bits/dim).

Conventions (identical to the Java engine):
  * tensors are NCHW float32; "forward" goes from data x to latent z (density direction),
    "inverse" from latent to data (sampling direction);
  * every layer returns (out, logdet [B], logdet_map or None), the map having out's shape;
  * log p(x) = sum of prior log-densities of every factored-out latent and the top latent
    + sum of log-determinants;
  * the exact per-pixel map carries each per-element term back to the input pixels it covers
    (a latent element at a level with total squeeze factor f covers an f x f block and is spread
    evenly over it), channels summed; it sums to log p(x).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def per_sample(a):
    """Sums every non-batch axis: [B, ...] -> [B]."""
    return a.reshape(a.shape[0], -1).sum(1)


def per_channel_step(out, log_scale, want_map):
    """Log-det of a per-channel scale log_scale [1, C, 1, 1] applied at every position of out."""
    b, _, h, w = out.shape
    logdet = (log_scale.sum() * (h * w)).expand(b)
    return out, logdet, (log_scale.expand_as(out) if want_map else None)


def elementwise_step(out, logmap, want_map):
    return out, per_sample(logmap), (logmap if want_map else None)


class Conv2d(nn.Module):
    """Same-padded convolution with bias; weight N(0, 1/(in k^2)) or zero (then the block starts as identity)."""

    def __init__(self, cin, cout, k, zero=False):
        super().__init__()
        self.pad = k // 2
        self.weight = nn.Parameter(torch.zeros(cout, cin, k, k) if zero
                                   else torch.randn(cout, cin, k, k) * math.sqrt(1.0 / (cin * k * k)))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, padding=self.pad)


class CouplingNet(nn.Module):
    """Glow: conv3x3-ReLU-conv1x1-ReLU-conv3x3(zero). RealNVP: conv3x3, residual blocks, ReLU, conv3x3(zero)."""

    def __init__(self, cin, hidden, cout, glow=True, blocks=1):
        super().__init__()
        self.first = Conv2d(cin, hidden, 3)
        self.glow = glow
        if glow:
            self.middle = Conv2d(hidden, hidden, 1)
        else:
            self.res = nn.ModuleList(nn.ModuleList([Conv2d(hidden, hidden, 3), Conv2d(hidden, hidden, 3)])
                                     for _ in range(blocks))
        self.last = Conv2d(hidden, cout, 3, zero=True)

    def forward(self, x):
        a = self.first(x)
        if self.glow:
            a = self.middle(F.relu(a))
        else:
            for c1, c2 in self.res:
                a = a + c2(F.relu(c1(F.relu(a))))
        return self.last(F.relu(a))


class ActNorm(nn.Module):
    """z = (x + b) * exp(logs) per channel; data-dependent initialisation on the first training batch."""

    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, x, want_map=False):
        if self.training and not bool(self.initialized):
            with torch.no_grad():
                pc = x.transpose(0, 1).reshape(x.shape[1], -1)
                mean = pc.mean(1)
                std = (pc - mean[:, None]).square().mean(1).sqrt()
                self.bias.copy_(-mean.view(1, -1, 1, 1))
                self.logs.copy_(-torch.log(std + 1e-6).view(1, -1, 1, 1))
                self.initialized.fill_(True)
        return per_channel_step((x + self.bias) * self.logs.exp(), self.logs, want_map)

    def inverse(self, z, want_map=False):
        return per_channel_step(z * (-self.logs).exp() - self.bias, -self.logs, want_map)


class BatchNormFlow(nn.Module):
    """RealNVP's batch normalisation as a flow layer (batch statistics when training, running ones otherwise)."""

    def __init__(self, c, momentum=0.05, eps=1e-4):
        super().__init__()
        self.log_gamma = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))
        self.momentum, self.eps = momentum, eps

    def forward(self, x, want_map=False):
        c = x.shape[1]
        if self.training:
            pc = x.transpose(0, 1).reshape(c, -1)
            m = pc.mean(1, keepdim=True)
            var = (pc - m).square().mean(1).view(1, c, 1, 1)
            mean = m.view(1, c, 1, 1)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.flatten())
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var.flatten())
        else:
            mean = self.running_mean.view(1, c, 1, 1)
            var = self.running_var.view(1, c, 1, 1)
        log_scale = self.log_gamma - 0.5 * torch.log(var + self.eps)
        return per_channel_step((x - mean) * log_scale.exp() + self.beta, log_scale, want_map)

    def inverse(self, z, want_map=False):
        c = z.shape[1]
        var = self.running_var.view(1, c, 1, 1)
        log_scale = self.log_gamma - 0.5 * torch.log(var + self.eps)
        x = (z - self.beta) * (-log_scale).exp() + self.running_mean.view(1, c, 1, 1)
        return per_channel_step(x, -log_scale, want_map)


class InvConv1x1(nn.Module):
    """Glow's LU-parametrised invertible 1x1 convolution, W = P L (U + diag(sign exp(logs)))."""

    def __init__(self, c):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(c, c, dtype=torch.float64))
        p, l, u = torch.linalg.lu(q)
        d = torch.diagonal(u)
        self.register_buffer("p", p.float())
        self.register_buffer("sign", torch.sign(d).float())
        self.register_buffer("lmask", torch.tril(torch.ones(c, c), -1))
        self.register_buffer("umask", torch.triu(torch.ones(c, c), 1))
        self.register_buffer("eye", torch.eye(c))
        self.lower = nn.Parameter((l * self.lmask.double()).float())
        self.upper = nn.Parameter((u * self.umask.double()).float())
        self.logs = nn.Parameter(torch.log(d.abs()).float())

    def weight(self):
        lo = self.lower * self.lmask + self.eye
        up = self.upper * self.umask + torch.diag(self.sign * self.logs.exp())
        return self.p @ lo @ up

    def forward(self, x, want_map=False):
        c = x.shape[1]
        z = F.conv2d(x, self.weight().view(c, c, 1, 1))
        return per_channel_step(z, self.logs.view(1, c, 1, 1), want_map)

    def inverse(self, z, want_map=False):
        c = z.shape[1]
        x = F.conv2d(z, torch.linalg.inv(self.weight()).view(c, c, 1, 1))
        return per_channel_step(x, -self.logs.view(1, c, 1, 1), want_map)


class AffineCoupling(nn.Module):
    """Affine coupling: 'sigmoid' (Glow, z_b = (x_b + t) sigmoid(r + 2)) or 'tanh' (RealNVP,
    z_b = x_b exp(g tanh(r)) + t); mask 'channel' (a = first C//2 channels, swapped with parity)
    or 'checkerboard' (a = pixels with (y + x) % 2 == parity, all channels)."""

    def __init__(self, c, mask, parity, scale, hidden, glow_net=True, blocks=1):
        super().__init__()
        self.mask, self.parity, self.scale = mask, parity, scale
        if mask == "checkerboard":
            cond = trans = c
        else:
            first = c // 2
            cond = c - first if parity else first
            trans = c - cond
        self.net = CouplingNet(cond, hidden, 2 * trans, glow=glow_net, blocks=blocks)
        if scale == "tanh":
            self.tanh_scale = nn.Parameter(torch.ones(1, trans, 1, 1))
        self._masks = {}

    def _transform(self, b, h, forward):
        t, r = h.chunk(2, 1)
        if self.scale == "sigmoid":
            pre = r + 2
            log_sig = -F.softplus(-pre)
            sig = torch.sigmoid(pre)
            return ((b + t) * sig, log_sig) if forward else (b / sig - t, -log_sig)
        s = torch.tanh(r) * self.tanh_scale
        return (b * s.exp() + t, s) if forward else ((b - t) * (-s).exp(), -s)

    def _checker(self, like):
        key = (like.shape[2], like.shape[3], like.dtype, like.device)
        m = self._masks.get(key)
        if m is None:
            h, w = like.shape[2], like.shape[3]
            yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
            m = ((yy + xx) % 2 == int(self.parity)).to(like.dtype).view(1, 1, h, w).to(like.device)
            self._masks[key] = m
        return m

    def _couple(self, x, want_map, forward):
        if self.mask == "checkerboard":
            m = self._checker(x)
            keep = x * m
            out_b, logmap = self._transform(x, self.net(keep), forward)
            other = 1 - m
            return elementwise_step(keep + out_b * other, logmap * other, want_map)
        first = x.shape[1] // 2
        p0, p1 = x[:, :first], x[:, first:]
        a, b = (p1, p0) if self.parity else (p0, p1)
        out_b, logmap = self._transform(b, self.net(a), forward)
        zeros = torch.zeros_like(a)
        if self.parity:
            return elementwise_step(torch.cat([out_b, a], 1), torch.cat([logmap, zeros], 1), want_map)
        return elementwise_step(torch.cat([a, out_b], 1), torch.cat([zeros, logmap], 1), want_map)

    def forward(self, x, want_map=False):
        return self._couple(x, want_map, True)

    def inverse(self, z, want_map=False):
        return self._couple(z, want_map, False)


class Squeeze(nn.Module):
    """[B, C, H, W] -> [B, 4C, H/2, W/2], z[b, 4c + 2i + j, y, x] = x[b, c, 2y + i, 2x + j]."""

    def forward(self, x, want_map=False):
        b, c, h, w = x.shape
        z = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)
        return z, x.new_zeros(b), (torch.zeros_like(z) if want_map else None)

    def inverse(self, z, want_map=False):
        b, c4, h, w = z.shape
        c = c4 // 4
        x = z.reshape(b, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c, 2 * h, 2 * w)
        return x, z.new_zeros(b), (torch.zeros_like(x) if want_map else None)


class ReverseChannels(nn.Module):
    """z[:, c] = x[:, C-1-c]; a permutation, log-det 0."""

    def forward(self, x, want_map=False):
        return x.flip(1), x.new_zeros(x.shape[0]), (torch.zeros_like(x) if want_map else None)

    def inverse(self, z, want_map=False):
        return self.forward(z, want_map)


class IafReverse(nn.Module):
    """Reverses the autoregressive order between IAF steps: flips channels, rows and columns; log-det 0."""

    def forward(self, x, want_map=False):
        return x.flip(1, 2, 3), x.new_zeros(x.shape[0]), (torch.zeros_like(x) if want_map else None)

    def inverse(self, z, want_map=False):
        return self.forward(z, want_map)


class MaskedConv2d(nn.Module):
    """PixelCNN-style masked convolution over raster-then-channel-group order (groups = c mod G)."""

    def __init__(self, cin, cout, k, groups, mask_type, zero=False):
        super().__init__()
        centre = k // 2
        m = torch.zeros(cout, cin, k, k)
        m[:, :, :centre, :] = 1
        m[:, :, centre, :centre] = 1
        go = (torch.arange(cout) % groups).view(-1, 1)
        gc = (torch.arange(cin) % groups).view(1, -1)
        m[:, :, centre, centre] = ((gc < go) if mask_type == "A" else (gc <= go)).float()
        self.register_buffer("mask", m)
        self.pad = k // 2
        w = torch.zeros(cout, cin, k, k)
        if not zero:
            nn.init.xavier_uniform_(w)
        self.weight = nn.Parameter(w)
        self.bias = nn.Parameter(torch.zeros(cout))

    def masked(self):
        return self.weight * self.mask, self.bias

    def apply(self, wb, x):
        return F.conv2d(x, wb[0], wb[1], padding=self.pad)


SIGMA_MIN = 0.01
TRAINING_STOP_ROUNDINGS = 8


def iaf_sigma(a):
    """sig = SIGMA_MIN + (1 - SIGMA_MIN) sigmoid(a), as IafStep.SIGMA_MIN in the Java engine."""
    return SIGMA_MIN + (1.0 - SIGMA_MIN) * torch.sigmoid(a)


class IafStep(nn.Module):
    """IAF step: [m, s] = AR(u); sampling y = sig u + (1 - sig) m, sig = iaf_sigma(s + 2); density by the
    exact fixed-point solve u <- m(u) + (y - m(u)) / sig(u) (no gradient; in training it stops once no
    element changes by more than TRAINING_STOP_ROUNDINGS units of rounding times 1 + max|y|), then
    `gradient_passes` differentiable passes from the solution when training."""

    def __init__(self, c, hidden, gradient_passes=3):
        super().__init__()
        self.c = c
        self.gradient_passes = gradient_passes
        self.conv1 = MaskedConv2d(c, hidden, 3, c, "A")
        self.conv2 = MaskedConv2d(hidden, hidden, 3, c, "B")
        self.conv3 = MaskedConv2d(hidden, 2 * c, 3, c, "B", zero=True)
        self.last_passes = 0

    def _weights(self):
        return self.conv1.masked(), self.conv2.masked(), self.conv3.masked()

    def _ar(self, w, u):
        h = F.relu(self.conv1.apply(w[0], u))
        h = F.relu(self.conv2.apply(w[1], h))
        out = self.conv3.apply(w[2], h)
        return out[:, :self.c], out[:, self.c:] + 2.0

    def inverse(self, u, want_map=False):
        m, a = self._ar(self._weights(), u)
        sig = iaf_sigma(a)
        y = m + sig * (u - m)
        logmap = torch.log(sig)
        return y, per_sample(logmap), (logmap if want_map else None)

    def forward(self, y, want_map=False):
        d = y[0].numel()
        passes = 0
        training = torch.is_grad_enabled() and self.training
        # training stops at rounding-sized changes, as IafStep.TRAINING_STOP_ROUNDINGS in the Java engine
        stop = TRAINING_STOP_ROUNDINGS * torch.finfo(y.dtype).eps * (1 + y.abs().max().item()) if training else 0.0
        with torch.no_grad():
            w = self._weights()
            cur = y.detach()
            while True:
                m, a = self._ar(w, cur)
                nxt = m + (y.detach() - m) / iaf_sigma(a)
                passes += 1
                delta = (nxt - cur).abs().max().item()
                if not math.isfinite(delta):
                    raise ArithmeticError("IAF density solve produced non-finite values")
                cur = nxt
                log_sig = torch.log(iaf_sigma(a))
                if delta <= stop or passes >= d:
                    break
        self.last_passes = passes
        u = cur
        if training:
            w = self._weights()
            for _ in range(self.gradient_passes):
                m, a = self._ar(w, u)
                u = m + (y - m) / iaf_sigma(a)
            log_sig = torch.log(iaf_sigma(a))
        logmap = -log_sig
        return u, per_sample(logmap), (logmap if want_map else None)


class GaussianPrior(nn.Module):
    """'standard' N(0, 1); 'learned' per-channel mean/log-std [1, C, 1, 1]; 'conditional' [mean, log-std] =
    zero-initialised conv3x3 of the conditioning tensor."""

    def __init__(self, kind, c=0, cond_c=0):
        super().__init__()
        self.kind = kind
        if kind == "learned":
            self.mean = nn.Parameter(torch.zeros(1, c, 1, 1))
            self.log_std = nn.Parameter(torch.zeros(1, c, 1, 1))
        elif kind == "conditional":
            self.conv = Conv2d(cond_c, 2 * c, 3, zero=True)

    def _ms(self, cond):
        if self.kind == "learned":
            return self.mean, self.log_std
        if self.kind == "conditional":
            return self.conv(cond).chunk(2, 1)
        return None

    def log_density(self, z, cond=None):
        ms = self._ms(cond)
        if ms is None:
            return -0.5 * z.square() - HALF_LOG_2PI
        u = (z - ms[0]) * (-ms[1]).exp()
        return -0.5 * u.square() - ms[1] - HALF_LOG_2PI

    def sample(self, shape, cond, temperature):
        eps = torch.randn(shape)
        ms = self._ms(cond)
        if ms is None:
            return eps * temperature
        return eps * ms[1].exp() * temperature + ms[0]


def spread(term, height, width):
    """Sums [B, c, h, w] over channels and spreads each value evenly over its block of input pixels."""
    s = term.sum(1)
    fy, fx = height // s.shape[1], width // s.shape[2]
    if fy == 1 and fx == 1:
        return s
    b, h, w = s.shape
    return (s.view(b, h, 1, w, 1).expand(b, h, fy, w, fx).reshape(b, height, width)) / (fy * fx)


class MultiScaleFlow(nn.Module):
    """Levels of layers; after every level but the last, the kept half is the first C//2 channels and the
    rest is scored by that level's split prior (conditioned on the kept half); the last output by the top prior."""

    def __init__(self, levels, split_priors, top_prior, channels, size_multiple):
        super().__init__()
        self.levels = nn.ModuleList(nn.ModuleList(l) for l in levels)
        self.split_priors = nn.ModuleList(split_priors)
        self.top_prior = top_prior
        self.channels = channels
        self.size_multiple = size_multiple

    def forward(self, x, want_map=False):
        """Returns log p(x) [B] and, with want_map, the per-pixel map [B, H, W] that sums to it.

        Per-element terms are summed over channels and accumulated at the resolution they live at;
        each resolution's sum is spread to the input pixels once, at the end."""
        b, _, height, width = x.shape
        h = x
        logdet = x.new_zeros(b)
        log_prior = x.new_zeros(b)
        maps = {}

        def add(term):
            key = tuple(term.shape[2:])
            s = term.sum(1, keepdim=True)
            maps[key] = maps[key] + s if key in maps else s

        n = len(self.levels)
        for li, level in enumerate(self.levels):
            for layer in level:
                h, ld, lm = layer(h, want_map)
                logdet = logdet + ld
                if want_map:
                    add(lm)
            if li < n - 1:
                kept = h.shape[1] // 2
                keep, scored = h[:, :kept], h[:, kept:]
                density = self.split_priors[li].log_density(scored, keep)
                h = keep
            else:
                density = self.top_prior.log_density(h)
            log_prior = log_prior + per_sample(density)
            if want_map:
                add(density)
        pixel_map = None
        if want_map:
            pixel_map = x.new_zeros(b, height, width)
            for m in maps.values():
                pixel_map = pixel_map + spread(m, height, width)
        return log_prior + logdet, pixel_map

    def sample(self, batch, height, width, temperature=1.0):
        """Draws images and returns (x, log q(x)) like the Java MultiScaleFlow.sample."""
        shapes = []
        with torch.no_grad():
            s = torch.zeros(1, self.channels, height, width)
            probe = s
            for li, level in enumerate(self.levels):
                for layer in level:
                    if isinstance(layer, Squeeze):
                        probe = probe.reshape(1, probe.shape[1] * 4, probe.shape[2] // 2, probe.shape[3] // 2)
                shapes.append((batch,) + tuple(probe.shape[1:]))
                if li < len(self.levels) - 1:
                    probe = probe[:, :probe.shape[1] // 2]
        n = len(self.levels)
        top_shape = shapes[-1]
        h = self.top_prior.sample(top_shape, None, temperature)
        log_prior = per_sample(self.top_prior.log_density(h))
        inv_logdet = h.new_zeros(batch)
        for li in range(n - 1, -1, -1):
            if li < n - 1:
                full = shapes[li]
                out_shape = (batch, full[1] - h.shape[1], full[2], full[3])
                z2 = self.split_priors[li].sample(out_shape, h, temperature)
                log_prior = log_prior + per_sample(self.split_priors[li].log_density(z2, h))
                h = torch.cat([h, z2], 1)
            for layer in reversed(self.levels[li]):
                h, ld, _ = layer.inverse(h, False)
                inv_logdet = inv_logdet + ld
        return h, log_prior - inv_logdet


#: (levels, steps, hidden, blocks) of FlowConfig.defaults per architecture.
DEFAULTS = {"realnvp": (2, 3, 32, 2), "glow": (2, 8, 64, 1), "iaf": (2, 4, 32, 1)}


def build(arch, channels=1, levels=None, steps=None, hidden=None, blocks=None):
    """Builds a flow with the Java engine's defaults (FlowConfig.defaults) unless sizes are given."""
    defaults = DEFAULTS[arch]
    levels = levels or defaults[0]
    steps = steps or defaults[1]
    hidden = hidden or defaults[2]
    blocks = blocks or defaults[3]
    c = channels
    level_layers, priors = [], []
    if arch == "glow":
        for l in range(levels):
            layers = [Squeeze()]
            c *= 4
            for _ in range(steps):
                layers += [ActNorm(c), InvConv1x1(c), AffineCoupling(c, "channel", False, "sigmoid", hidden)]
            level_layers.append(layers)
            if l < levels - 1:
                kept = c // 2
                priors.append(GaussianPrior("conditional", c - kept, kept))
                c = kept
        top = GaussianPrior("learned", c)
    elif arch == "realnvp":
        for l in range(levels):
            layers = []
            last = l == levels - 1
            for i in range(steps + 1 if last else steps):
                layers += [AffineCoupling(c, "checkerboard", i % 2 == 1, "tanh", hidden, False, blocks),
                           BatchNormFlow(c)]
            if not last:
                layers.append(Squeeze())
                c *= 4
                for i in range(steps):
                    layers += [AffineCoupling(c, "channel", i % 2 == 1, "tanh", hidden, False, blocks),
                               BatchNormFlow(c)]
                kept = c // 2
                priors.append(GaussianPrior("standard"))
                c = kept
            level_layers.append(layers)
        top = GaussianPrior("standard")
    elif arch == "iaf":
        for l in range(levels):
            layers = [Squeeze()]
            c *= 4
            for _ in range(steps):
                layers += [ActNorm(c), IafStep(c, hidden), IafReverse()]
            level_layers.append(layers)
            if l < levels - 1:
                kept = c // 2
                priors.append(GaussianPrior("standard"))
                c = kept
        top = GaussianPrior("standard")
    else:
        raise ValueError("unknown architecture " + arch)
    return MultiScaleFlow(level_layers, priors, top, channels, 1 << levels)
