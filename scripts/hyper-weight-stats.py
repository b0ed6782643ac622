#!/usr/bin/env python3
"""How far a trained VHRNN's hyper heads moved from their initialisation (zero weights; theta
bias [1..1 | 1..1 | 0..0], so scales 1 and generated biases 0; omega output weights 0).

    scripts/hyper-weight-stats.py 'runs/experiments/table1/vhrnn4-*/best'

Reads model.safetensors directly (numpy only). Prints per checkpoint the Frobenius norm of the
theta head's weight, the largest change of its bias, and the norm of omega's output weight:
all are 0 at initialisation, so values well above 0 mean the hyper networks are in use.
"""
import json, struct, sys, glob, numpy as np
def load(path):
    b=open(path,'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); base=8+n; out={}
    for k,v in h.items():
        if k=='__metadata__': continue
        dt={'F32':np.float32,'F64':np.float64}[v['dtype']]; s,e=v['data_offsets']
        out[k]=np.frombuffer(b[base+s:base+e],dtype=dt).reshape(v['shape'])
    return out
for d in sorted(glob.glob(sys.argv[1] if len(sys.argv) > 1 else 'runs/experiments/table1/vhrnn4-*/best')):
    t=load(d+'/model.safetensors'); G=t['theta_head.layer0.bias'].shape[0] // 3
    W=t['theta_head.layer0.weight']; b=t['theta_head.layer0.bias']
    init=np.concatenate([np.ones(2*G),np.zeros(G)])
    oW=t['omega.layer1.weight']; ob=t['omega.layer1.bias']
    print(d.split('/')[-2], 'theta_head |W|_F %.3f  max|b-b0| %.3f   omega out |W|_F %.3f' % (np.linalg.norm(W), np.abs(b-init).max(), np.linalg.norm(oW)))
