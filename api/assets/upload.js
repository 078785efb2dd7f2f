// Document upload with a progress bar. Without a script the form posts the same multipart body.
'use strict';

(function () {
  const form = document.getElementById('upload-form');
  if (!form) return;
  const bar = document.getElementById('upload-progress');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    bar.hidden = false;
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    // Accepted: the answer is the tender's page after the redirect, loaded as the form would. Refused:
    // the answer is the page with the refusal, whose message is shown here, above the form.
    xhr.addEventListener('load', () => {
      if (xhr.status < 400) { location.assign(xhr.responseURL); return; }
      bar.hidden = true;
      const answer = new DOMParser().parseFromString(xhr.responseText, 'text/html');
      const refusal = answer.getElementById('form-error');
      const shown = document.getElementById('form-error');
      if (shown) shown.remove();
      if (refusal) { form.before(document.adoptNode(refusal)); return; }
      // Refused before the page could answer (too large, signed out): its error page's heading.
      const note = document.createElement('div');
      note.className = 'error'; note.id = 'form-error'; note.setAttribute('role', 'alert');
      const heading = answer.querySelector('h1');
      note.textContent = heading ? heading.textContent : xhr.status + ' ' + xhr.statusText;
      form.before(note);
    });
    xhr.send(new FormData(form));
  });
})();
