//! The seed article's demo, as it read there: build a `Syscall` value, call it, print what
//! the kernel wrote back into it. The only change is the answer type, a `Result`.

use ferrocall::Syscall;

fn main() {
    let mut lets_be_useless = Syscall::Useless(15, None);
    lets_be_useless.call();

    let Syscall::Useless(_, result) = lets_be_useless;
    match result {
        Some(Ok(answer)) => println!("The syscall has sent back : {answer}"),
        Some(Err(errno)) => {
            eprintln!("The syscall failed: {errno}");
            std::process::exit(1);
        }
        None => unreachable!("call() always stores an answer"),
    }
}
