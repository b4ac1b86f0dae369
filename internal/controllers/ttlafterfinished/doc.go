// Package ttlafterfinished is the TTL-after-finished controller: it
// deletes a Job ttlSecondsAfterFinished after it reached Complete or
// Failed (the condition's lastTransitionTime), with background
// propagation so the garbage collector removes its pods.
//
// Before deleting it reads the Job afresh from the API, since a user may
// have changed the TTL after the cache saw it, and deletes with a UID
// precondition so a newer Job of the same name is never hit. It must not
// touch unfinished Jobs or anything but Jobs.
package ttlafterfinished
