"""What the weight converters share: PyTorch (the python3's, else installed once into .torch/)
and a plain safetensors writer (float32 tensors)."""
import json, os, struct, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_DIR = os.path.join(ROOT, ".torch")


def import_torch():
    try:
        import torch
        return torch
    except ImportError:
        pass
    if not os.path.isdir(os.path.join(TORCH_DIR, "torch")):
        print(f"installing torch into {TORCH_DIR} (once)", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--target", TORCH_DIR, "torch==2.13.0"])
    sys.path.insert(0, TORCH_DIR)
    import torch
    return torch


def write_safetensors(path, tensors, source):
    """tensors: name -> (shape, float32 bytes). The format: an 8-byte header size, a JSON header, the data."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        shape, data = tensors[name]
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt", "source": source}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for blob in blobs:
            f.write(blob)
    os.replace(path + ".tmp", path)
