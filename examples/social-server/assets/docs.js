// The interactive API page: lists every operation of /openapi.json and lets you call it.
(async function () {
  const spec = await (await fetch('/openapi.json')).json();
  const ops = document.getElementById('ops');
  ops.textContent = '';
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const d = document.createElement('details');
      const s = document.createElement('summary');
      s.innerHTML = `<span class="m ${method}">${method.toUpperCase()}</span> <code>${path}</code> ${op.summary || ''}`;
      d.appendChild(s);
      const params = (op.parameters || []).map(p => p.name);
      const form = document.createElement('div');
      const inputs = {};
      for (const name of params) {
        const l = document.createElement('label');
        l.textContent = name;
        const i = document.createElement('input');
        inputs[name] = i;
        l.appendChild(i);
        form.appendChild(l);
      }
      let body = null;
      if (op.requestBody) {
        body = document.createElement('textarea');
        body.rows = 5;
        body.placeholder = 'JSON body';
        form.appendChild(body);
      }
      const btn = document.createElement('button');
      btn.textContent = 'Send';
      const out = document.createElement('pre');
      btn.onclick = async () => {
        let url = path;
        const query = new URLSearchParams();
        for (const p of op.parameters || []) {
          const v = inputs[p.name].value;
          if (!v) continue;
          if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(v));
          else query.append(p.name, v);
        }
        const q = query.toString();
        const headers = { 'Content-Type': 'application/json' };
        const token = document.getElementById('token').value;
        if (token) headers.Authorization = `Bearer ${token}`;
        const r = await fetch(url + (q ? `?${q}` : ''), { method: method.toUpperCase(), headers, body: body && body.value ? body.value : undefined });
        const text = await r.text();
        out.textContent = `${r.status} ${r.statusText}\n${[...r.headers].map(h => h.join(': ')).join('\n')}\n\n${text}`;
      };
      form.appendChild(btn);
      form.appendChild(out);
      d.appendChild(form);
      ops.appendChild(d);
    }
  }
})();
