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
    // The answer is the tender's page again (or the refusal on it): show it as the form would.
    xhr.addEventListener('load', () => {
      document.open();
      document.write(xhr.responseText);
      document.close();
      history.replaceState(null, '', xhr.responseURL);
    });
    xhr.send(new FormData(form));
  });
})();
