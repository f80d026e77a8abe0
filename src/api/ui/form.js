import { h } from './util.js';

/**
 * A form generated from a params JSON Schema (zod → JSON Schema): one input per property, defaults
 * pre-filled, enums as selects, booleans as checkboxes, arrays/objects as JSON text.
 */
export function paramsForm(schema, { onSubmit }) {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const fields = new Map();
  const errors = new Map();
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const form = h('form', { novalidate: true, 'aria-label': 'Run parameters' });
  for (const [name, prop] of Object.entries(props)) {
    const id = `param-${name}`;
    const kind = kindOf(prop);
    let input;
    if (kind === 'enum') input = h('select', { id, name }, (required.has(name) ? [] : [h('option', { value: '' }, '—')]).concat(prop.enum.map((v) => h('option', { value: v, selected: v === prop.default }, v))));
    else if (kind === 'boolean') input = h('input', { id, name, type: 'checkbox', checked: prop.default === true });
    else if (kind === 'json') input = h('textarea', { id, name, rows: 2, cols: 40 }, prop.default === undefined ? '' : JSON.stringify(prop.default));
    else input = h('input', { id, name, type: kind === 'number' || kind === 'integer' ? 'number' : 'text', step: kind === 'integer' ? 1 : 'any', value: prop.default ?? '', min: prop.minimum, max: prop.maximum });
    const error = h('div', { class: 'field-error', id: `${id}-error` });
    input.setAttribute('aria-describedby', `${id}-error`);
    fields.set(name, { input, kind });
    errors.set(name, error);
    const hint = [prop.type ?? kind, prop.description].filter(Boolean).join(' — ');
    form.append(h('div', { class: 'field' }, h('label', { for: id }, name, required.has(name) ? ' *' : '', ' ', h('span', { class: 'hint' }, hint)), input, error));
  }
  if (fields.size === 0) form.append(h('p', { class: 'muted' }, 'This pipeline takes no params.'));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Trigger run');
  form.append(formError, submit);

  const clear = () => {
    formError.textContent = '';
    for (const [name, error] of errors) {
      error.textContent = '';
      fields.get(name).input.removeAttribute('aria-invalid');
    }
  };
  /** Shows server-side issues ("pipeline "x": params.n: too big") next to their fields. */
  const showIssues = (issues, message) => {
    clear();
    const unplaced = [];
    const placed = [];
    for (const issue of issues) {
      const match = /params\.([A-Za-z0-9_-]+)[^:]*: (.*)$/.exec(issue);
      const target = match && errors.get(match[1]);
      if (target) {
        target.textContent = match[2];
        fields.get(match[1]).input.setAttribute('aria-invalid', 'true');
        placed.push(`${match[1]}: ${match[2]}`);
      } else unplaced.push(issue);
    }
    // The alert is what a screen reader announces: it names the fields too, not only "see above".
    formError.textContent = [...unplaced, ...placed].join('; ') || message;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear();
    const params = {};
    for (const [name, { input, kind }] of fields) {
      if (kind === 'boolean') {
        params[name] = input.checked;
        continue;
      }
      if (input.value === '') continue;
      if (kind === 'number' || kind === 'integer') params[name] = Number(input.value);
      else if (kind === 'json') {
        try {
          params[name] = JSON.parse(input.value);
        } catch {
          errors.get(name).textContent = 'expected JSON, e.g. ["a", "b"]';
          formError.textContent = `${name}: expected JSON, e.g. ["a", "b"]`;
          input.setAttribute('aria-invalid', 'true');
          return;
        }
      } else params[name] = input.value;
    }
    // aria-disabled, not disabled: a disabled button drops keyboard focus to <body> while the request runs.
    if (submit.getAttribute('aria-disabled') === 'true') return;
    submit.setAttribute('aria-disabled', 'true');
    try {
      await onSubmit(params, showIssues);
    } finally {
      submit.removeAttribute('aria-disabled');
    }
  });
  return form;
}

function kindOf(prop) {
  if (Array.isArray(prop.enum)) return 'enum';
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
  if (type === 'boolean' || type === 'number' || type === 'integer' || type === 'string') return type;
  return 'json';
}
