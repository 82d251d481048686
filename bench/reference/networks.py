"""PyTorch mirrors of medsyn's DCGAN backbone (src/models/dcgan.ts) and U-Net (src/models/unet.ts).

Same layers, channel counts, norms, activations and bias rules, and the same parameter names, so that a state dict
lists exactly the tensors medsyn's ParamCollector does (test/bench/reference-parity.test.ts checks names, shapes and
counts against test/bench/reference_shapes.json, which `reference.py --shapes` writes). Initialisation is PyTorch's
default: it does not change the cost of a step. Layout is NCHW (PyTorch's native one); medsyn is NHWC.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

BASE_SIZE = 4
MAX_MULT = 8  # channel cap as a multiple of `filters` (DCGAN's ngf*8)
LEAKY_SLOPE = 0.2


def norm_layer(kind, channels):
    if kind == 'batch':
        return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
    if kind == 'instance':
        return nn.InstanceNorm2d(channels, eps=1e-5, affine=True, track_running_stats=False)
    if kind == 'none':
        return nn.Identity()
    raise ValueError(kind)


def activation(kind):
    return {'relu': nn.ReLU(), 'leaky-relu': nn.LeakyReLU(LEAKY_SLOPE), 'elu': nn.ELU(), 'selu': nn.SELU()}[kind]


def block_count(size):
    b = (size // BASE_SIZE).bit_length() - 1
    if BASE_SIZE * 2 ** b != size:
        raise ValueError(f'size {size} is not 4·2^B')
    return b


class Generator(nn.Module):
    """latents [N, Z] -> fc -> [N, c0, 4, 4] -> norm, act -> B x (ConvT k4 s2 p1, norm, act) -> Conv k3 -> tanh."""

    def __init__(self, size, channels, filters, latent_dim=128, norm='batch', act='relu'):
        super().__init__()
        b = block_count(size)
        ch = [filters * min(2 ** (b - i), MAX_MULT) for i in range(b + 1)]
        bias = norm == 'none'
        self.c0 = ch[0]
        self.input = nn.ModuleDict({'fc': nn.Linear(latent_dim, BASE_SIZE * BASE_SIZE * ch[0], bias=bias),
                                    'norm': norm_layer(norm, ch[0])})
        self.blocks = nn.ModuleList(nn.ModuleDict({'conv': nn.ConvTranspose2d(ch[i], ch[i + 1], 4, 2, 1, bias=bias),
                                                   'norm': norm_layer(norm, ch[i + 1])}) for i in range(b))
        self.output = nn.ModuleDict({'conv': nn.Conv2d(ch[b], channels, 3, 1, 1, bias=True)})
        self.act = activation(act)

    def forward(self, z):
        x = self.input['fc'](z).view(z.shape[0], self.c0, BASE_SIZE, BASE_SIZE)
        x = self.act(self.input['norm'](x))
        for blk in self.blocks:
            x = self.act(blk['norm'](blk['conv'](x)))
        return torch.tanh(self.output['conv'](x))


class Discriminator(nn.Module):
    """samples [N, C, S, S] -> B x (Conv k4 s2 p1, norm (none on block 0), act) -> flatten -> fc -> [N, 1]."""

    def __init__(self, size, channels, filters, norm='batch', act='leaky-relu'):
        super().__init__()
        b = block_count(size)
        ch = [filters * min(2 ** i, MAX_MULT) for i in range(b)]
        blocks = []
        for i in range(b):
            n = 'none' if i == 0 else norm
            blocks.append(nn.ModuleDict({'conv': nn.Conv2d(channels if i == 0 else ch[i - 1], ch[i], 4, 2, 1, bias=n == 'none'),
                                         'norm': norm_layer(n, ch[i])}))
        self.blocks = nn.ModuleList(blocks)
        self.fc = nn.Linear(BASE_SIZE * BASE_SIZE * ch[-1], 1, bias=True)
        self.act = activation(act)

    def forward(self, x):
        for blk in self.blocks:
            x = self.act(blk['norm'](blk['conv'](x)))
        features = torch.flatten(x, 1)
        return self.fc(features), features


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, norm):
        super().__init__()
        bias = norm == 'none'
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=bias)
        self.norm1 = norm_layer(norm, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=bias)
        self.norm2 = norm_layer(norm, cout)

    def forward(self, x):
        return F.relu(self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x))))))


class UpLevel(ConvBlock):
    """medsyn names the up-sampling layer `up.{i}.upconv` and the block's convs `up.{i}.conv1` etc. (one prefix)."""

    def __init__(self, cfrom, cto, norm):
        super().__init__(2 * cto, cto, norm)
        self.upconv = nn.ConvTranspose2d(cfrom, cto, 2, 2, bias=True)


class UNet(nn.Module):
    """depth poolings, F·2^i filters, transposed-conv up-sampling, concat [up, skip], 1×1 head (src/models/unet.ts)."""

    def __init__(self, in_channels=1, num_classes=4, depth=4, filters=16, norm='batch'):
        super().__init__()
        self.depth = depth
        self.down = nn.ModuleList()
        cin = in_channels
        for i in range(depth):
            self.down.append(ConvBlock(cin, filters * 2 ** i, norm))
            cin = filters * 2 ** i
        self.bottleneck = ConvBlock(cin, filters * 2 ** depth, norm)
        # keys '3', '2', '1', '0' (medsyn registers the deepest level first)
        self.up = nn.ModuleDict({str(i): UpLevel(filters * 2 ** (i + 1), filters * 2 ** i, norm) for i in reversed(range(depth))})
        self.head = nn.Conv2d(filters, num_classes, 1, 1, 0, bias=True)

    def forward(self, x):
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
            x = F.max_pool2d(x, 2, 2)
        x = self.bottleneck(x)
        for i in reversed(range(self.depth)):
            lvl = self.up[str(i)]
            x = lvl(torch.cat([lvl.upconv(x), skips[i]], 1))
        return self.head(x)


# ----------------------------------------------------------------------------------------------- training steps
def dcgan_optimizers(g, d):
    """DCGAN preset (src/gan/variants.ts): Adam lr 2e-4, betas (0.5, 0.999), eps 1e-8, for both players."""
    return (torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8),
            torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8))


def gan_step(g, d, opt_g, opt_d, real, latent_dim):
    """One Trainer.trainStep of the DCGAN preset (src/training/trainer.ts + src/gan/objective.ts).

    D update: fake = G(z) (G in training mode, no gradient to G: medsyn's variableGrads over D's variables prunes
    G's backward pass), loss = mean softplus(-D(real)) + mean softplus(D(fake)), real and fake through D separately
    (separate batch statistics). G update: fresh z, loss = mean softplus(-D(G(z))); D's weights get no gradient
    (medsyn differentiates w.r.t. G's variables only), but the backward pass runs through D.
    """
    n = real.shape[0]
    with torch.no_grad():
        fake = g(torch.randn(n, latent_dim))
    opt_d.zero_grad(set_to_none=True)
    loss_d = F.softplus(-d(real)[0]).mean() + F.softplus(d(fake)[0]).mean()
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    for p in d.parameters():
        p.requires_grad_(False)
    loss_g = F.softplus(-d(g(torch.randn(n, latent_dim)))[0]).mean()
    loss_g.backward()
    for p in d.parameters():
        p.requires_grad_(True)
    opt_g.step()
    return float(loss_d), float(loss_g)


def segmentation_loss(logits, target_onehot, smooth=1e-5):
    """src/segmentation/losses.ts defaults: CE (mean over pixels) + soft Dice (per image and class, background excluded)."""
    ce = -(target_onehot * F.log_softmax(logits, 1)).sum(1).mean()
    p = F.softmax(logits, 1)[:, 1:]
    y = target_onehot[:, 1:]
    inter = (p * y).sum((2, 3))
    den = p.sum((2, 3)) + y.sum((2, 3))
    dice = 1 - ((2 * inter + smooth) / (den + smooth)).mean()
    return ce + dice


def unet_step(net, opt, images, labels, num_classes):
    """One segmentationStep (src/segmentation/train.ts): one-hot the labels, forward in training mode, CE + Dice, Adam."""
    target = F.one_hot(labels.long(), num_classes).permute(0, 3, 1, 2).float()
    opt.zero_grad(set_to_none=True)
    loss = segmentation_loss(net(images), target)
    loss.backward()
    opt.step()
    return float(loss)
