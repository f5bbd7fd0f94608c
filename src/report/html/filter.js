(function(){var f=document.getElementById('flt');if(!f)return;f.hidden=false;
function has(c,p,v){return !v||c.contains(p+v);}
function run(){var k=f.k.value,s=f.s.value,e=f.e.value,d=f.d.value,n=0;
document.querySelectorAll('tr.f').forEach(function(r){var c=r.classList,ok=[has(c,'k',k),has(c,'s',s),e==='prod'?!c.contains('dev'):has(c,'',e),has(c,'',d)].every(Boolean);c.toggle('hide',!ok);if(ok)if(!c.contains('i'))n++;});
document.querySelectorAll('tbody[data-d]').forEach(function(b){b.classList.toggle('hide',d?b.getAttribute('data-d')!==d:false);});
document.getElementById('shown').textContent=n;}
f.addEventListener('change',run);run();})();
