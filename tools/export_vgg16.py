# Export torchvision's VGG16 (IMAGENET1K_V1) conv weights for medsyn's perceptual loss (src/gan/perceptual.ts).
# Usage: python3 tools/export_vgg16.py vgg16.safetensors   (needs: pip install torch torchvision safetensors)
import sys, torchvision
from safetensors.torch import save_file
model = torchvision.models.vgg16(weights=torchvision.models.VGG16_Weights.IMAGENET1K_V1)
save_file({k: v.contiguous() for k, v in model.state_dict().items() if k.startswith("features.")}, sys.argv[1])
