#!/usr/bin/python3
"""Test vectors for src/metrics/torch-pickle.ts and src/metrics/inception.ts (run with /usr/bin/python3, needs torch).

Writes into test/metrics/fixtures/:
  torch_small_zip.pth, torch_small_legacy.pth  small state dicts written by torch.save (zip and legacy format)
  torch_small_deflated.pth                      the zip one re-packed with deflated entries
  torch_small.json                              their expected contents
  inception_vectors.json                        FID-Inception block outputs and pool3/logits on deterministic weights

The FID Inception-v3 below is written from the metrics spec (sec. 1.1/1.2: pytorch-fid's FIDInceptionA/C/E_1/E_2,
torchvision's InceptionB/D, BasicConv2d = conv(no bias) + BN(eps 1e-3) + ReLU); pytorch-fid itself is not installed.
Weights are not random draws but a hash of (tensor name, element index), so that the TypeScript test can regenerate
exactly the same float32 values without storing 24M numbers: u = lowbias32(i + fnv1a32(name)) / 2^32 * 2 - 1.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, 'fixtures')
M = 0xFFFFFFFF


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode('utf8'):
        h ^= b
        h = (h * 0x01000193) & M
    return h


def hash_uniform(name, n):
    x = (np.arange(n, dtype=np.uint64) + np.uint64(fnv1a32(name))) & np.uint64(M)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(M)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(M)
    x ^= x >> np.uint64(16)
    return (x.astype(np.float64) / 4294967296.0 * 2.0 - 1.0).astype(np.float32)


def det_value(name, shape):
    """Deterministic parameter values (same recipe as inception.test.ts detWeights)."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = hash_uniform(name, n).astype(np.float64)
    if name.endswith('conv.weight'):
        fan_in = int(np.prod(shape[1:]))
        v = u * np.sqrt(6.0 / fan_in)
    elif name.endswith('bn.weight'):
        v = 1.0 + 0.2 * u
    elif name.endswith('bn.bias') or name.endswith('bn.running_mean'):
        v = 0.2 * u
    elif name.endswith('bn.running_var'):
        v = 1.0 + 0.25 * (u + 1.0)
    elif name == 'fc.weight':
        v = u * np.sqrt(3.0 / 2048)
    elif name == 'fc.bias':
        v = 0.1 * u
    else:
        raise ValueError(name)
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


# ------------------------------------------------------------------------------------------------ network (spec 1.2)
class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FIDInceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([b1, b5, bd, bp], 1)


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for i in range(1, 6):
            bd = getattr(self, f'branch7x7dbl_{i}')(bd)
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f'branch7x7x3_{i}')(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionE(nn.Module):
    def __init__(self, cin, max_pool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.max_pool:  # FIDInceptionE_2
            bp = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:  # FIDInceptionE_1
            bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([b1, b3, bd, self.branch_pool(bp)], 1)


class FIDInception(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, 32)
        self.Mixed_5c = FIDInceptionA(256, 64)
        self.Mixed_5d = FIDInceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, 128)
        self.Mixed_6c = FIDInceptionC(768, 160)
        self.Mixed_6d = FIDInceptionC(768, 160)
        self.Mixed_6e = FIDInceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, False)
        self.Mixed_7c = FIDInceptionE(2048, True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x):
        x = self.Conv2d_1a_3x3(x)
        x = self.Conv2d_2a_3x3(x)
        x = self.Conv2d_2b_3x3(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_3b_1x1(x)
        x = self.Conv2d_4a_3x3(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ['Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e',
                     'Mixed_7a', 'Mixed_7b', 'Mixed_7c']:
            x = getattr(self, name)(x)
        pool3 = torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)
        return pool3, self.fc(pool3)


def det_state_dict(model):
    sd = {}
    for k, v in model.state_dict().items():
        if k.endswith('num_batches_tracked'):
            sd[k] = v
        else:
            sd[k] = det_value(k, tuple(v.shape))
    return sd


def det_image(name, n, h, w, c):
    """uint8-valued image u8/255 in NHWC order (inception.test.ts detImage)."""
    u = hash_uniform(name, n * h * w * c).astype(np.float64)
    q = np.minimum(np.floor((u + 1.0) * 128.0), 255.0)
    return (q / 255.0).astype(np.float32).reshape(n, h, w, c)


def det_block_input(name, n, h, w, c):
    u = hash_uniform(name, n * h * w * c)
    return ((u + 1.0) * 0.5).astype(np.float32).reshape(n, h, w, c)


def summarise(out_nchw):
    """NHWC-flattened samples every 97th value, and per-channel sums over (N, H, W), in float64."""
    nhwc = out_nchw.permute(0, 2, 3, 1).contiguous().double().numpy()
    flat = nhwc.reshape(-1)
    idx = list(range(0, flat.size, 97))
    return {
        'shape_nhwc': list(nhwc.shape),
        'sample_every': 97,
        'samples': [float(flat[i]) for i in idx],
        'channel_sums': [float(s) for s in nhwc.sum(axis=(0, 1, 2))],
        'abs_max': float(np.abs(flat).max()),
    }


def small_state_dicts():
    g = torch.Generator().manual_seed(7)
    big = torch.randn(3, 4, generator=g)
    sd = {
        'conv.weight': torch.randn(2, 3, 2, 2, generator=g),
        'bn.running_var': torch.rand(5, generator=g) + 0.5,
        'bn.num_batches_tracked': torch.tensor(12345, dtype=torch.int64),
        'view.row1': big[1],                       # a view at offset 4 into a shared storage
        'view.full': big,
        'double': torch.randn(3, generator=g, dtype=torch.float64),
        'half': torch.tensor([1.5, -2.25, 65504.0, 6.0e-8], dtype=torch.float16),
        'transposed': big.t(),                     # non-contiguous strides
        'scalar': torch.tensor(3.25),
    }
    from collections import OrderedDict
    sd = OrderedDict(sd)
    torch.save(sd, os.path.join(FIX, 'torch_small_zip.pth'))
    torch.save(sd, os.path.join(FIX, 'torch_small_legacy.pth'), _use_new_zipfile_serialization=False)
    # the same archive with deflated entries (torch writes them stored; other zip tools may not)
    import zipfile
    with zipfile.ZipFile(os.path.join(FIX, 'torch_small_zip.pth')) as src, \
            zipfile.ZipFile(os.path.join(FIX, 'torch_small_deflated.pth'), 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    assert torch.load(os.path.join(FIX, 'torch_small_deflated.pth'))['view.row1'].equal(sd['view.row1'])
    exp = {}
    for k, v in sd.items():
        exp[k] = {'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', ''),
                  'values': [float(x) if v.dtype.is_floating_point else int(x) for x in v.reshape(-1).tolist()]}
    with open(os.path.join(FIX, 'torch_small.json'), 'w') as f:
        json.dump(exp, f, indent=1)


def main():
    os.makedirs(FIX, exist_ok=True)
    small_state_dicts()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = FIDInception().eval()
    sd = det_state_dict(model)
    model.load_state_dict(sd)
    out = {'torch_version': torch.__version__, 'weights': 'hash_uniform recipe (see det_value)', 'blocks': {}}
    blocks = [('Mixed_5b', 192, 5, 'A'), ('Mixed_6a', 288, 7, 'B'), ('Mixed_6b', 768, 5, 'C'),
              ('Mixed_7a', 768, 7, 'D'), ('Mixed_7b', 1280, 4, 'E_1'), ('Mixed_7c', 2048, 3, 'E_2')]
    with torch.no_grad():
        for name, cin, hw, kind in blocks:
            x = torch.from_numpy(det_block_input('input:' + name, 1, hw, hw, cin)).permute(0, 3, 1, 2)
            y = getattr(model, name)(x)
            out['blocks'][name] = {'kind': kind, 'input_nhwc': [1, hw, hw, cin], **summarise(y)}
        # end to end, pytorch-fid preprocessing: [0,1] image 64x64 → bilinear 299 (align_corners=False) → 2x−1
        img = torch.from_numpy(det_image('image', 1, 64, 64, 3)).permute(0, 3, 1, 2)
        x = F.interpolate(img, size=(299, 299), mode='bilinear', align_corners=False)
        pool3, logits = model(2 * x - 1)
        out['end_to_end'] = {
            'image_nhwc': [1, 64, 64, 3],
            'pool3': [float(v) for v in pool3[0].double()],
            'logits': [float(v) for v in logits[0].double()],
        }
        # a 1-channel 80x80 image is replicated to RGB (pytorch-fid sees PIL convert('RGB'))
        g = torch.from_numpy(det_image('gray', 1, 80, 80, 1)).permute(0, 3, 1, 2).repeat(1, 3, 1, 1)
        x = F.interpolate(g, size=(299, 299), mode='bilinear', align_corners=False)
        pool3, _ = model(2 * x - 1)
        out['end_to_end_gray'] = {'image_nhwc': [1, 80, 80, 1], 'pool3': [float(v) for v in pool3[0].double()]}
        # clean-fid "clean" preprocessing on the same 64x64 image: uint8 values as float32, Pillow bicubic per channel
        # (mode F) to 299, clip [0, 255], (x - 128) / 128 (cleanfid/resize.py, inception_torchscript.py)
        from PIL import Image
        u8 = np.rint(det_image('image', 1, 64, 64, 3)[0].astype(np.float64) * 255.0).astype(np.float32)
        chans = [np.asarray(Image.fromarray(u8[:, :, k], mode='F').resize((299, 299), resample=Image.BICUBIC)).clip(0, 255)
                 for k in range(3)]
        hwc = torch.from_numpy(np.stack(chans, axis=-1).astype(np.float32))
        pool3, _ = model(((hwc - 128) / 128).permute(2, 0, 1)[None])
        out['end_to_end_clean'] = {'image_nhwc': [1, 64, 64, 3], 'pool3': [float(v) for v in pool3[0].double()]}
    with open(os.path.join(FIX, 'inception_vectors.json'), 'w') as f:
        json.dump(out, f)
    print('wrote', FIX)


if __name__ == '__main__':
    main()
